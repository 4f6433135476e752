-- Unit spec: the manifest parser, on strings (no files, no network).
local manifest = require("ion.upload.cli.manifest")

describe("ion.upload.cli.manifest", function()
  it("maps each row to its own target, ids as integers", function()
    local items = assert(manifest.parse(
      "path,target,id,filename\na.jpg,run_step,12,\nb.csv,run,7,b-renamed.csv\nc.pdf,entity_id,9876,\n"))
    assert.equal(3, #items)
    assert.same({ run_step = 12 }, items[1].target)
    assert.is_nil(items[1].filename)
    assert.same({ run = 7 }, items[2].target)
    assert.equal("b-renamed.csv", items[2].filename)
    assert.same({ entity_id = "9876" }, items[3].target)
  end)

  it("reads an id column that names the object: filters, RUN/TITLE, RUN/#N, RUN/TITLE/NAME", function()
    local items = assert(manifest.parse("path,target,id\n"
      .. "a.csv,run,title=SN004512 final test\n"
      .. "b.csv,run_step,title=SN004512 final test/Final test\n"
      .. "c.csv,run_step,88/#3\n"
      .. "d.csv,part,\"partNumber=PN-77,revision=B\"\n"
      .. "e.csv,run_step_field,88/Final test/Torque log\n"
      .. "f.csv,run_step,88/Final test\\/rework\n"
      .. "g.csv,run,title=\n"))
    local sn = { where = { title = { eq = "SN004512 final test" } } }
    assert.same({ run = sn }, items[1].target)
    assert.same({ run_step = { run = sn, title = "Final test" } }, items[2].target)
    assert.same({ run_step = { run = 88, position = 3 } }, items[3].target)
    assert.same({ part = { where = { partNumber = { eq = "PN-77" }, revision = { eq = "B" } } } }, items[4].target)
    assert.same({ run_step_field = { run_step = { run = 88, title = "Final test" }, name = "Torque log" } },
      items[5].target)
    assert.same({ run_step = { run = 88, title = "Final test/rework" } }, items[6].target)
    assert.equal("manifest line 8: id of run 'title=': title has no value (title= matches nothing a station means)",
      items[7].err.message)
    assert.equal("bad_input", items[7].err.code)
  end)

  it("follows RFC 4180 quoting: commas, doubled quotes, line breaks, CRLF", function()
    local text = 'path,target,id,filename\r\n"photos/a, b.jpg",part,3,"say ""hi"""\r\n'
      .. '"multi\nline.txt",step,4,\r\n'
    local items = assert(manifest.parse(text))
    assert.equal("photos/a, b.jpg", items[1].path)
    assert.equal('say "hi"', items[1].filename)
    assert.equal("multi\nline.txt", items[2].path)
    assert.same({ step = 4 }, items[2].target)
  end)

  it("accepts a header without the filename column, in any order, with a BOM", function()
    local items = assert(manifest.parse("\239\187\191id,path,target\n5,x.bin,run\n"))
    assert.same({ run = 5 }, items[1].target)
    assert.equal("x.bin", items[1].path)
  end)

  it("reports a bad row as that file's bad_input error and keeps the others", function()
    local items = assert(manifest.parse(
      "path,target,id\na.jpg,runstep,1\nb.jpg,run_step,abc\nc.jpg,run_step,\nd.jpg,run,2\n"))
    assert.equal(4, #items)
    assert.equal("bad_input", items[1].err.code)
    assert.matches('unknown target "runstep"', items[1].err.message)
    assert.matches("line 2", items[1].err.message)
    assert.matches("id of run_step 'abc' is not a run_step: write RUN_STEP_ID, or RUN/TITLE", items[2].err.message)
    assert.matches("id is empty", items[3].err.message)
    assert.is_nil(items[4].err)
    assert.same({ run = 2 }, items[4].target)
  end)

  it("refuses a manifest without the required columns or with broken quoting", function()
    local _, err = manifest.parse("target,id\na,run,1\n")
    assert.equal("bad_input", err.code)
    assert.matches("no path column", err.message)
    _, err = manifest.parse('path,target,id\n"a.jpg,run,1\n')
    assert.matches("never closed", err.message)
    _, err = manifest.parse("")
    assert.matches("empty", err.message)
  end)

  it("refuses a row with more columns than the header, naming the row and the count", function()
    local items = assert(manifest.parse("path,target,id,filename\nlog.txt,part,3,x,extra\nok.txt,part,3,\n"))
    assert.equal(2, #items)
    assert.equal("log.txt", items[1].path)
    assert.equal("bad_input", items[1].err.code)
    assert.equal("manifest line 2: 5 columns, the header has 4 (path,target,id,filename)", items[1].err.message)
    assert.matches("Quote a field that holds a comma", items[1].err.hint, 1, true)
    assert.is_nil(items[2].err) -- fewer columns (an empty filename left out) are fine
    items = assert(manifest.parse("path,target,id\na, b.txt,run,1\n"))
    assert.matches("4 columns, the header has 3", items[1].err.message, 1, true)
  end)

  it("refuses a header with a column it does not know, one named twice, or another separator", function()
    local cases = {
      { "path,target,id,filename,extra\n", "manifest header column 5 is 'extra': the columns are path, target, id "
        .. "and filename" },
      { "path,target,id,filname\n", "column 4 is 'filname'" },
      { "path,target,id,\n", "column 4 is empty" },
      { "path,target,id,path\n", "names the path column twice" },
      { "path;target;id;filename\na;run;1;\n", "manifest header has no path column: it reads "
        .. "'path;target;id;filename', but a manifest's columns are separated by commas, not by ;" },
      { "path\ttarget\tid\n", "not by tabs" },
    }
    for _, c in ipairs(cases) do
      local items, err = manifest.parse(c[1])
      assert.is_nil(items, c[1])
      assert.equal("bad_input", err.code)
      assert.matches(c[2], err.message, 1, true)
      assert.matches("path,target,id,filename", err.hint, 1, true)
    end
  end)

  it("skips blank lines and keeps line numbers right", function()
    local items = assert(manifest.parse("path,target,id\n\na.jpg,run,1\n\nb.jpg,bogus,1\n"))
    assert.equal(2, #items)
    assert.matches("line 5", items[2].err.message)
  end)
end)
