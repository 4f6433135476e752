-- The files under a folder, for `ion-upload -r`: a depth-first walk in
-- sorted order (bytewise by name) over core.list_dir, as an iterator with an
-- explicit stack, so that a consumer can pull files while the walk goes on.
--
-- Filters: the path rules of ion.upload.glob (glob.rule, take_file,
-- skip_folder), the same matcher the library's watch filters with. A file is
-- taken when it matches no --exclude and, if any --include is given, at least
-- one --include; a folder that matches an --exclude is not entered.
local glob = require("ion.upload.glob")
local errors = require("ion.upload.errors")

local walk = {}

-- An exclusion of every name at the top (*, **, /*, **/*, ...): with it no
-- file is ever taken, whatever --include says (exclusion wins).
local function excludes_all(pattern, m)
  local body = pattern:gsub("^/+", "")
  return body:find("^[*/]+$") ~= nil and body:sub(-1) ~= "/" and m:match("x")
end

-- Why an exclusion that takes every file is refused: aws s3's filters read
-- `--exclude '*' --include '*.pdf'` as "only the PDFs"; here it takes none.
local function excludes_all_message(e, includes)
  local what = (e.from == "--exclude" and "--exclude" or e.from .. ":") .. " '" .. e.glob .. "'"
  if #includes == 0 then return what .. " leaves out every file: nothing would be uploaded" end
  return what .. " leaves out every file, and an exclusion wins over --include: nothing would be uploaded "
    .. "(to take only the files --include matches, give --include alone)"
end

--- The globs of exclude = { glob... } and of each file of exclude_from = {
-- path... } (one a line; blank lines and # comments skipped), in order:
-- list of { glob =, from = "--exclude" | "FILE:LINE" } | nil, message.
function walk.excludes(opts)
  local excludes = {}
  for _, g in ipairs(opts.exclude or {}) do excludes[#excludes + 1] = { glob = g, from = "--exclude" } end
  for _, path in ipairs(opts.exclude_from or {}) do
    local file, err = io.open(path, "r")
    if not file then
      return nil, "--exclude-from: cannot read " .. path .. ": " .. tostring(err):gsub("^.*: ", "")
    end
    local text = file:read("*a")
    file:close()
    if not text then return nil, "--exclude-from: cannot read " .. path end
    local n = 0
    for line in (text .. "\n"):gmatch("([^\n]*)\n") do
      n = n + 1
      line = line:gsub("\r$", "")
      if line:find("%S") and not line:find("^%s*#") then
        excludes[#excludes + 1] = { glob = line, from = path .. ":" .. n }
      end
    end
  end
  return excludes
end

--- A filter from { include = { glob... }, exclude = { glob... },
-- exclude_from = { path... } }: filter | nil, message (a usage error: the
-- message names the bad glob or the unreadable file, or the exclusion that
-- leaves nothing to take).
function walk.filter(opts)
  local f = { include = {}, exclude = {} }
  local excludes, xerr = walk.excludes(opts)
  if not excludes then return nil, xerr end
  for _, e in ipairs(excludes) do
    local m, err = glob.rule(e.glob)
    if not m then return nil, e.from .. ": " .. err end
    if excludes_all(e.glob, m) then return nil, excludes_all_message(e, opts.include or {}) end
    f.exclude[#f.exclude + 1] = m
  end
  for _, g in ipairs(opts.include or {}) do
    local m, err = glob.rule(g)
    if not m then return nil, "--include: " .. err end
    f.include[#f.include + 1] = m
  end
  return f
end

local skip_folder, take_file = glob.skip_folder, glob.take_file

local function join(a, b)
  if a:sub(-1) == "/" then return a .. b end
  return a .. "/" .. b
end

--- An iterator over the files under root. opts: hidden (take names starting
-- with "."), follow (enter symlinks to folders), filter (walk.filter),
-- list_dir (core.list_dir unless given). Each call returns a record:
--   { kind = "file", path =, rel =, name =, size =, mtime =, linked = (a
--     symlink on the way from root: its realpath is not root's plus rel) }
--   { kind = "note", path =, message = }    a link not followed, a loop, a
--                                           dangling link, a special file
--   { kind = "error", path =, err = }       a folder that cannot be read
-- and nil at the end.
function walk.files(root, opts)
  opts = opts or {}
  local list_dir = opts.list_dir or require("ion.upload.core").list_dir
  local f = opts.filter
  if root ~= "/" then root = root:gsub("/+$", "") end
  local stack, on_path, reported = {}, {}, {}
  local pending = {} -- records to hand out before walking on

  local function open(path, rel, linked)
    local entries, id_or_err = list_dir(path)
    if not entries then
      local e = id_or_err
      pending[#pending + 1] = { kind = "error", path = path, err = errors.new("bad_input",
        "cannot read folder " .. tostring(type(e) == "table" and e.message or e),
        { hint = "Check the folder's permissions, or leave it out with --exclude" }) }
      return
    end
    if on_path[id_or_err] then return end
    on_path[id_or_err] = true
    stack[#stack + 1] = { path = path, rel = rel, entries = entries, i = 0, id = id_or_err, linked = linked }
  end

  local function loop(path, id)
    if reported[id] then return end
    reported[id] = true
    pending[#pending + 1] = { kind = "note", path = path,
      message = "not followed: it leads back to a folder above it (a loop)" }
  end

  local started = false
  return function()
    if not started then
      started = true
      open(root, "")
    end
    while true do
      if #pending > 0 then return table.remove(pending, 1) end
      local top = stack[#stack]
      if not top then return nil end
      top.i = top.i + 1
      local e = top.entries[top.i]
      if not e then
        on_path[top.id] = nil
        stack[#stack] = nil
      elseif opts.hidden or e.name:sub(1, 1) ~= "." then
        local path, rel = join(top.path, e.name), top.rel == "" and e.name or top.rel .. "/" .. e.name
        local kind, id, size, mtime = e.type, e.id, e.size, e.mtime
        if kind == "link" then
          kind, id, size, mtime = e.target_type, e.target_id, e.target_size, e.target_mtime
          if kind == "dir" and not opts.follow then
            if not skip_folder(f, rel) then
              pending[#pending + 1] = { kind = "note", path = path,
                message = "not followed: a symlink to a folder (--follow follows it)" }
            end
            kind = nil
          elseif kind == "missing" then
            if take_file(f, rel) then
              pending[#pending + 1] = { kind = "note", path = path, message = "skipped: a symlink to nothing" }
            end
            kind = nil
          end
        end
        if kind == "dir" then
          if skip_folder(f, rel) then -- luacheck: ignore 542
          elseif on_path[id] then
            loop(path, id)
          else
            open(path, rel, top.linked or e.type == "link")
          end
        elseif kind == "file" then
          if take_file(f, rel) then
            return { kind = "file", path = path, rel = rel, name = e.name, size = size, mtime = mtime,
              linked = top.linked or e.type == "link" or nil }
          end
        elseif kind == "other" and take_file(f, rel) then
          pending[#pending + 1] = { kind = "note", path = path, message = "skipped: not a regular file" }
        end
      end
    end
  end
end

return walk
