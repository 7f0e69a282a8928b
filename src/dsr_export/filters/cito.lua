-- CiTO-prefixed citation keys (@method:doe2019, as Pandoc Scholar writes them) become the bare
-- key before citeproc runs, so they resolve; the CiTO property is kept as a data-cito attribute.
-- A key that is itself in the bibliography is never touched.

local properties = {}
for name in ([[
agreesWith citation cites citesAsAuthority citesAsDataSource citesAsEvidence
citesAsMetadataDocument citesAsPotentialSolution citesAsRecommendedReading citesAsRelated
citesAsSourceDocument citesForInformation compiles confirms containsAssertionFrom corrects
credits critiques derides describes disagreesWith discusses disputes documents extends
givesBackgroundTo givesSupportTo includesExcerptFrom includesQuotationFrom isCitedBy
obtainsBackgroundFrom obtainsSupportFrom parodies plagiarizes qualifies refutes repliesTo
retracts reviews ridicules sharesAuthorsWith sharesAuthorInstitutionWith speculatesOn
supports updates usesConclusionsFrom usesDataFrom usesMethodIn
]]):gmatch("%S+") do
  properties[name:lower()] = name
end
-- Pandoc Scholar's short forms.
local aliases = {
  agree_with = "agreesWith", agrees_with = "agreesWith", background = "obtainsBackgroundFrom",
  data = "usesDataFrom", data_source = "citesAsDataSource", disagree_with = "disagreesWith",
  disagrees_with = "disagreesWith", evidence = "citesAsEvidence", method = "usesMethodIn",
  use_method_in = "usesMethodIn", uses_method_in = "usesMethodIn", uses_data_from = "usesDataFrom",
  updates = "updates", extends = "extends", discusses = "discusses", supports = "supports",
}

local function property(prefix)
  return aliases[prefix:lower()] or properties[prefix:lower():gsub("_", "")]
end

function Pandoc(doc)
  local known = {}
  for _, ref in ipairs(pandoc.utils.references(doc)) do
    known[ref.id] = true
  end
  return doc:walk {
    Cite = function(cite)
      local used = {}
      for _, c in ipairs(cite.citations) do
        local prefix, key = c.id:match("^([%a_]+):(.+)$")
        local name = prefix and property(prefix)
        if name and not known[c.id] then
          c.id = key
          table.insert(used, name)
        end
      end
      if #used == 0 then
        return nil
      end
      return pandoc.Span({cite}, {["data-cito"] = table.concat(used, " ")})
    end,
  }
end
