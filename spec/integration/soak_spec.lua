-- integration: the fault soak. 300 files (0 B up) to 30 targets of mixed
-- kinds, every sandbox fault on at once under a fixed seed: each file ends up
-- attached exactly once with its MD5, except registrations whose answer was
-- lost (in doubt), which a second run with the journal registers again; no
-- Authorization header and no chunked PUT ever reach storage.
-- `make test` runs one seed with small files; `make soak` (#soak) runs several
-- seeds with files up to 8 MiB, with partial data on and off.
local soak = require("support.soak")

local function report(line)
  io.stderr:write(line, "\n")
end

describe("integration: fault soak", function()
  it("300 files, 30 targets, all faults at once (seed 1): nothing lost, nothing attached wrongly", function()
    local fig = soak.run({ seed = 1, files = 300, big = false, window = 1 })
    report(soak.describe(fig, "quick"))
    local f = fig.faults
    -- the faults really happened
    for _, k in ipairs({ "storage_503", "storage_drop", "storage_expire", "graphql_5xx", "graphql_429" }) do
      assert.is_true(f[k] > 0, k .. " never fired")
    end
    assert.is_true(fig.duplicates <= fig.in_doubt)
  end)
end)

describe("integration: fault soak, long #soak", function()
  -- ION_SOAK_SEEDS="2 3 4" overrides the seeds (scripts/soak.sh passes it on).
  local seeds = {}
  for s in (os.getenv("ION_SOAK_SEEDS") or "2 3 4 5"):gmatch("%d+") do seeds[#seeds + 1] = tonumber(s) end
  for _, seed in ipairs(seeds) do
    for _, partial in ipairs({ true, false }) do
      local label = partial and "partial-data" or "strict"
      -- one registration per document, or ten (a lost answer puts ten in doubt)
      local window = partial and 1 or 10
      it(string.format("seed %d, %s, window %d, files up to 8 MiB", seed, label, window), function()
        local fig = soak.run({ seed = seed, files = 300, big = true, partial_data = partial, window = window })
        report(soak.describe(fig, label))
        assert.is_true(fig.duplicates <= fig.in_doubt)
      end)
    end
  end
end)
