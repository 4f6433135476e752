-- The rules of a station whose files are named by serial number, not by ION
-- id (ion-upload watch DIR --rules examples/rules_by_serial.lua): each
-- target finds its object by name, with the file name's captures (%1, %2)
-- put into every string of the target. A run that does not exist yet is
-- waited for (--target-wait, default an hour); a name that matches two is
-- reported at once.
-- luacheck: read globals enum (a rules file's one global beyond string, table, math and the like)
return {
  -- SN004517_final.csv: the log of the run titled "SN004517 final test",
  -- attached to its step "Final test".
  { match = "^(SN%d+)_final%.csv$",
    target = { run_step = { run = { where = { title = { eq = "%1 final test" } } }, title = "Final test" } } },

  -- SN004517_step2_torque.csv: the run's second step, whatever its title.
  { match = "^(SN%d+)_step(%d+)_.*%.csv$",
    target = function(cap)
      return { run_step = { run = { where = { title = { eq = cap[1] .. " final test" } } },
        position = tonumber(cap[2]) } }
    end },

  -- PN-77_B_drawing.pdf: part PN-77, revision B.
  { match = "^(PN%-%d+)_(%u)_.*%.pdf$",
    target = { part = { where = { partNumber = { eq = "%1" }, revision = { eq = "%2" } } } } },

  -- in-progress/SN004517.pdf: the run with that title that is in progress
  -- (an enum value is written enum("NAME")).
  { match = "^in%-progress/(SN%d+)%.pdf$",
    target = { run = { where = { title = { eq = "%1 final test" }, status = { eq = enum("IN_PROGRESS") } } } } },
}
