-- The recipes of `--shard K/N` in examples/: the Kubernetes Indexed Job and
-- the systemd template unit. No cluster and no kubeconform here: the Job is
-- read with PyYAML and held to the fields the Job API requires of an
-- Indexed Job with backoffLimitPerIndex (batch/v1: completionMode Indexed,
-- completions set, restartPolicy Never, a name and image per container, each
-- volume mount naming a volume); the unit goes through `systemd-analyze
-- verify` as an instance. Both commands' ion-upload flags go through the
-- CLI's own parser.
local cjson = require("cjson")
local cli_args = require("ion.upload.cli.args")
local shard_args = require("ion.upload.cli.shard_args")
local shard = require("ion.upload.shard")
local files = require("support.files")

local function capture(cmd)
  local p = io.popen(cmd .. " 2>&1; echo \"rc=$?\"")
  local out = p:read("*a")
  p:close()
  local body, rc = out:match("^(.-)rc=(%d+)\n?$")
  return tonumber(rc), body
end

-- A shell line's words: "…" kept together (no other quoting in these examples).
local function words(line)
  local out, i = {}, 1
  while i <= #line do
    local s, e = line:find("^%s+", i)
    if s then i = e + 1 end
    if i > #line then break end
    if line:sub(i, i) == '"' then
      local close = assert(line:find('"', i + 1, true))
      out[#out + 1] = line:sub(i + 1, close - 1)
      i = close + 1
    else
      local _, stop = line:find("^%S+", i)
      out[#out + 1] = line:sub(i, stop)
      i = stop + 1
    end
  end
  return out
end

-- The flags after `ion-upload` in a command line, with $VAR replaced from env, parsed and resolved.
local function parse_cli(line, env)
  line = line:gsub("%$([%w_]+)", function(v) return env[v] or error("no " .. v) end)
  local argv, taking = {}, false
  for _, w in ipairs(words(line)) do
    if taking then argv[#argv + 1] = w end
    if w == "ion-upload" then taking = true end
  end
  local args = assert(cli_args.parse(argv, "0"))
  assert(shard_args.resolve(args, function(name) return env[name] end, require("ion.upload.core")))
  return args
end

describe("examples/k8s/backfill-job.yaml", function()
  it("is an Indexed Job the Job API accepts, one shard a pod by JOB_COMPLETION_INDEX", function()
    local rc, out = capture("python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'"
      .. " < examples/k8s/backfill-job.yaml")
    if rc ~= 0 and out:find("No module named", 1, true) then
      print("  skipped: PyYAML is not installed (scripts/deps.sh installs python3-yaml)")
      return
    end
    assert.equal(0, rc, out)
    local job = cjson.decode(out)
    assert.equal("batch/v1", job.apiVersion)
    assert.equal("Job", job.kind)
    local name = job.metadata.name -- a DNS-1123 label: the pods' hostnames are made from it
    assert.matches("^[a-z0-9][-a-z0-9]*$", name)
    assert.is_true(#name <= 63 and name:sub(-1) ~= "-")
    local spec = job.spec
    assert.equal("Indexed", spec.completionMode)
    -- Indexed: completions is required, and both it and parallelism at most 100,000
    for _, k in ipairs({ "completions", "parallelism" }) do
      assert.equal(math.floor(spec[k]), spec[k], k)
      assert.is_true(spec[k] >= 1 and spec[k] <= 100000, k)
    end
    -- backoffLimitPerIndex: only with Indexed and a pod restartPolicy of Never
    assert.is_true(spec.backoffLimitPerIndex >= 0)
    assert.is_true(spec.maxFailedIndexes == nil or spec.maxFailedIndexes <= spec.completions)
    local pod = spec.template.spec
    assert.equal("Never", pod.restartPolicy)
    assert.is_true(#pod.containers >= 1)
    local volumes = {}
    for _, v in ipairs(pod.volumes) do volumes[v.name] = v end
    local c = pod.containers[1]
    assert.is_string(c.name)
    assert.is_string(c.image)
    local mounts = {}
    for _, m in ipairs(c.volumeMounts) do
      assert.is_table(volumes[m.name], m.name) -- every mount names a volume
      mounts[m.mountPath] = m
    end
    local env = {}
    for _, e in ipairs(c.env) do env[e.name] = e end
    assert.is_nil(env.ION_TOKEN.value) -- the token only from the Secret
    assert.is_string(env.ION_TOKEN.valueFrom.secretKeyRef.name)
    assert.is_string(env.ION_TOKEN.valueFrom.secretKeyRef.key)
    -- the command: index 5 of N = completions, its journal on the journal volume, in its own folder
    local line = table.concat(c.args, " ")
    local args = parse_cli(line, { JOB_COMPLETION_INDEX = "5" })
    assert.same({ k = 5, n = spec.completions }, args.shard)
    assert.equal("/journal/5/backfill.journal", args.journal)
    assert.is_table(mounts["/journal"])
    assert.is_table(volumes[mounts["/journal"].name].persistentVolumeClaim)
    assert.is_truthy(line:find('mkdir -p "/journal/$JOB_COMPLETION_INDEX"', 1, true)) -- the journal's folder
  end)
end)

describe("examples/ion-upload-backfill@.service", function()
  local unit = "examples/ion-upload-backfill@.service"

  it("passes systemd-analyze verify as an instance", function()
    local rc = capture("command -v systemd-analyze")
    if rc ~= 0 then
      print("  skipped: systemd-analyze is not installed (scripts/deps.sh installs systemd)")
      return
    end
    local dir = files.tmpdir()
    os.execute("cp " .. unit .. " '" .. dir .. "/'")
    local code, out = capture("systemd-analyze verify '" .. dir .. "/ion-upload-backfill@3.service'")
    files.rmdir(dir)
    assert.equal(0, code, out)
    assert.equal("", out) -- a warning is no error to systemd-analyze: none at all
  end)

  it("runs shard %i of 8: ION_UPLOAD_SHARD, a journal per instance", function()
    local text = files.read(unit)
    local n = tonumber(text:match("Environment=ION_UPLOAD_SHARD=%%i/(%d+)"))
    assert.equal(8, n)
    for k = 0, n - 1 do assert.same({ k = k, n = n }, shard.parse(k .. "/" .. n, "ION_UPLOAD_SHARD")) end
    assert.matches("StateDirectory=ion%-upload%-backfill%-%%i\n", text)
    local exec = text:match("ExecStart=([^\n]*\\\n[^\n]*)"):gsub("\\\n", " ")
    local args = parse_cli(exec:match("exec (ion%-upload .-)'$"), { ION_UPLOAD_SHARD = "3/8",
      STATE_DIRECTORY = "/var/lib/ion-upload-backfill-3" })
    assert.same({ k = 3, n = 8 }, args.shard)
    assert.equal("/var/lib/ion-upload-backfill-3/backfill.journal", args.journal)
  end)
end)
