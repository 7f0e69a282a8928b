"""A page's content painted in the order of its structure tree, where that changes nothing drawn.

WeasyPrint paints a block's text first and then, in a pass of their own, its inline images
(formulas) and list markers, each inside its own `q ... Q`. Such a saved-state group is moved
to just before the content that follows it in the tree, when both places are in the same
enclosing group and the graphics and text state in force there is the same, so that what it
draws is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import pikepdf

# Operators that set state a later operator draws with (PDF 32000-1, tables 57 and 105).
_TEXT = {"Tj", "TJ", "'", '"'}
_TEXT_STATE = {"Tc", "Tw", "Tz", "TL", "Tf", "Tr", "Ts"}
_PAINT = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "Do", "BI", "INLINE IMAGE"}
_STATE = {
    "w", "J", "j", "M", "d", "ri", "i", "gs", "CS", "cs", "SC", "SCN", "sc", "scn", "G", "g", "RG", "rg",
    "K", "k", "Tc", "Tw", "Tz", "TL", "Tf", "Tr", "Ts", "cm",
}


def paint_in_tree_order(pdf: pikepdf.Pdf, page: pikepdf.Page, order: Sequence[int]) -> int:
    """Reorder `page`'s content stream towards the MCID order `order`; the number of groups moved."""
    instructions = list(pikepdf.parse_content_stream(page))
    moved = _reorder(instructions, list(order))
    if moved:
        page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(instructions))
    return moved


def _scan(instructions: list) -> tuple[list[int], list[int], dict[int, int], list[tuple]]:  # type: ignore[type-arg]
    """For each instruction: the `q` it is inside (-1: none), its matching `Q` if it is a `q`,
    where each MCID begins, and the state in force before it."""
    enclosing, closes, begins, states = [], {}, {}, []
    stack: list[int] = []
    state: dict[str, tuple] = {}  # type: ignore[type-arg]
    saved: list[dict[str, tuple]] = []  # type: ignore[type-arg]
    matching = [-1] * len(instructions)
    in_text, marks = False, []
    for index, instruction in enumerate(instructions):
        operator = str(instruction.operator)
        enclosing.append(stack[-1] if stack else -1)
        # a group may only move where it stays outside text objects and inside the same marked content
        states.append((in_text, tuple(marks), tuple(sorted(state.items()))))
        if operator == "BT":
            in_text = True
        elif operator == "ET":
            in_text = False
        elif operator in ("BDC", "BMC"):
            marks.append(index)
        elif operator == "EMC" and marks:
            marks.pop()
        if operator == "q":
            stack.append(index)
            saved.append(dict(state))
        elif operator == "Q" and stack:
            opened = stack.pop()
            matching[opened] = index
            closes[index] = opened
            state = saved.pop()
        elif operator == "cm":  # concatenated: the whole sequence since the last `q` counts
            state["cm"] = (*state.get("cm", ()), *(str(o) for o in instruction.operands))
        elif operator in _STATE:
            state[operator] = tuple(str(o) for o in instruction.operands)
        elif operator == "BDC":
            props = instruction.operands[1] if len(instruction.operands) > 1 else None
            if isinstance(props, pikepdf.Dictionary) and "/MCID" in props:
                begins[int(props.MCID)] = index
    return enclosing, matching, begins, states


def _mcids_between(instructions: list, start: int, end: int) -> set[int]:  # type: ignore[type-arg]
    found = set()
    for instruction in instructions[start : end + 1]:
        if str(instruction.operator) in ("BDC", "BMC"):
            props = instruction.operands[1] if len(instruction.operands) > 1 else None
            found.add(int(props.MCID) if isinstance(props, pikepdf.Dictionary) and "/MCID" in props else -1)
    return found


def _group(instructions: list, enclosing: list[int], matching: list[int], begin: int,  # type: ignore[type-arg]
           mcid: int) -> tuple[int, int] | None:
    """The outermost `q ... Q` around `begin` that holds the marked content of `mcid` alone."""
    best = None
    opened = enclosing[begin]
    while opened >= 0 and matching[opened] >= 0:
        if _mcids_between(instructions, opened, matching[opened]) != {mcid}:
            break
        best = (opened, matching[opened])
        opened = enclosing[opened]
    return best


def _start_in(enclosing: list[int], index: int, parent: int) -> int | None:
    """Where the piece of content at `index` starts among the children of the `q` at `parent`."""
    while enclosing[index] != parent:
        index = enclosing[index]
        if index < 0:
            return None
    return index


def _reorder(instructions: list, order: list[int]) -> int:  # type: ignore[type-arg]
    moved = 0
    for _ in range(len(order)):  # each pass moves one group; a page has at most as many
        enclosing, matching, begins, states = _scan(instructions)
        painted = sorted((m for m in order if m in begins), key=begins.__getitem__)
        wanted = [m for m in order if m in begins]
        if painted == wanted:
            break
        step = _one_move(instructions, wanted, enclosing, matching, begins, states)
        if step is None:
            break
        moved += 1
    return moved


def _one_move(instructions: list, wanted: list[int], enclosing: list[int], matching: list[int],  # type: ignore[type-arg]
              begins: dict[int, int], states: list[tuple]) -> bool | None:  # type: ignore[type-arg]
    """Move the first group painted later than the content that follows it in the tree."""
    for position, mcid in enumerate(wanted[:-1]):
        after = wanted[position + 1]
        if begins[mcid] < begins[after]:
            continue
        group = _group(instructions, enclosing, matching, begins[mcid], mcid)
        if group is None:
            continue
        start, end = group
        target = _start_in(enclosing, begins[after], enclosing[start])
        if target is None or target > start or not _same_for(instructions[start : end + 1], states[target],
                                                              states[start]):
            continue
        piece = instructions[start : end + 1]
        del instructions[start : end + 1]
        instructions[target:target] = piece
        return True
    return None


def _same_for(group: list, here: tuple, there: tuple) -> bool:  # type: ignore[type-arg]
    """Whether `group` draws alike in the state `here` and `there`: outside text objects, inside the
    same marked content, and alike in every state it draws with before setting it itself."""
    if here[0] or there[0] or here[1] != there[1]:
        return False
    used: set[str] = set()
    set_first: set[str] = set()
    for instruction in group:
        operator = str(instruction.operator)
        if operator in _TEXT:
            used |= _STATE - set_first
        elif operator in _PAINT:
            used |= _STATE - _TEXT_STATE - set_first
        elif operator in _STATE and operator != "cm":
            set_first.add(operator)
    used.add("cm")
    mine, theirs = dict(here[2]), dict(there[2])
    return all(mine.get(key) == theirs.get(key) for key in used)
