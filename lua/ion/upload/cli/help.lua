-- Help beside the flags' own (lua-argparse writes those): the commands
-- `ion-upload --help` lists, `ion-upload profiles --help`, and the test for
-- -h/--help that comes before a parser would miss a required argument
-- (`ion-upload watch --help` has no DIR).
local help = {}

-- The commands beside an upload, listed after the usage.
help.commands = "\n\n" .. [[
Commands:
   watch DIR             Upload the files that appear in a folder (ion-upload watch --help).
   verify                Check that what ION holds is what was uploaded (ion-upload verify --help).
   profiles              List the profiles of the config file.]]

help.profiles = [[
Usage: ion-upload profiles

Lists the profiles of the config file ($XDG_CONFIG_HOME/ion-upload/config.lua,
by default ~/.config/ion-upload/config.lua): each one's endpoint and where its
credentials come from, never a secret. Pick one with --profile NAME or
ION_PROFILE (see ion-upload --help).]]

--- Does argv ask for help (-h or --help before any "--")?
function help.wanted(argv)
  for _, a in ipairs(argv) do
    if a == "--" then return false end
    if a == "-h" or a == "--help" then return true end
  end
  return false
end

return help
