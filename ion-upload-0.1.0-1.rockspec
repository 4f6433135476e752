rockspec_format = "3.0"
package = "ion-upload"
version = "0.1.0-1"
source = {
  url = "git+https://github.com/ion-upload/ion-upload.git",
  tag = "v0.1.0",
}
description = {
  summary = "Upload files to ION (First Resonance) as attachments, fast and safely.",
  detailed = [[
A Lua module with a C core (libcurl) that puts files into ION as attachments:
signed URL, streaming PUT with ETag and MD5, registration on the right entity.
Batch uploads with concurrency and a resumable journal, and a CLI.
]],
  homepage = "https://github.com/ion-upload/ion-upload",
  license = "MIT",
}
dependencies = {
  "lua >= 5.1, < 5.5",
  "lua-cjson >= 2.1",
  "argparse >= 0.7",
}
external_dependencies = {
  -- On Debian curl.h sits in the multiarch include folder, where a header
  -- check does not look: check the library and let the compiler find the header.
  CURL = { library = "curl" },
  OPENSSL = { library = "crypto" },
}
build = {
  type = "builtin",
  modules = {
    -- C core (sources kept in step with csrc/)
    ["ion.upload.core"] = {
      sources = {
        "csrc/clock.c", "csrc/core.c", "csrc/download.c", "csrc/errors.c", "csrc/hashset.c",
        "csrc/jline.c", "csrc/journal_compact.c", "csrc/journal_index.c", "csrc/lua_fs.c",
        "csrc/lua_hash_file.c", "csrc/lua_hashset.c", "csrc/lua_journal.c", "csrc/lua_session.c",
        "csrc/lua_signals.c", "csrc/lua_spawn.c", "csrc/lua_sys.c", "csrc/lua_watch.c",
        "csrc/md5.c", "csrc/options.c", "csrc/parse.c", "csrc/put.c", "csrc/put_file.c",
        "csrc/put_ring.c", "csrc/rate.c", "csrc/realpath.c", "csrc/request.c", "csrc/response.c",
        "csrc/selfpipe.c", "csrc/session.c", "csrc/signals.c", "csrc/watch_tree.c",
      },
      libraries = { "curl", "crypto", "pthread" },
      incdirs = { "$(OPENSSL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)", "$(OPENSSL_LIBDIR)" },
      defines = { "_POSIX_C_SOURCE=200809L", "_FILE_OFFSET_BITS=64" },
    },
    -- Lua modules (every file of lua/ion/upload/; spec/rockspec_spec.lua checks)
    ["ion.upload"] = "lua/ion/upload.lua",
    ["ion.upload.auth"] = "lua/ion/upload/auth.lua",
    ["ion.upload.auth_async"] = "lua/ion/upload/auth_async.lua",
    ["ion.upload.check"] = "lua/ion/upload/check.lua",
    ["ion.upload.cli.cli_args"] = "lua/ion/upload/cli/cli_args.lua",
    ["ion.upload.cli.cli_main"] = "lua/ion/upload/cli/cli_main.lua",
    ["ion.upload.cli.cli_output"] = "lua/ion/upload/cli/cli_output.lua",
    ["ion.upload.cli.cli_progress"] = "lua/ion/upload/cli/cli_progress.lua",
    ["ion.upload.cli.dry_run"] = "lua/ion/upload/cli/dry_run.lua",
    ["ion.upload.cli.flags"] = "lua/ion/upload/cli/flags.lua",
    ["ion.upload.cli.help"] = "lua/ion/upload/cli/help.lua",
    ["ion.upload.cli.hints"] = "lua/ion/upload/cli/hints.lua",
    ["ion.upload.cli.log_progress"] = "lua/ion/upload/cli/log_progress.lua",
    ["ion.upload.cli.profiles"] = "lua/ion/upload/cli/profiles.lua",
    ["ion.upload.cli.summary"] = "lua/ion/upload/cli/summary.lua",
    ["ion.upload.cli.tally"] = "lua/ion/upload/cli/tally.lua",
    ["ion.upload.cli.rate"] = "lua/ion/upload/cli/rate.lua",
    ["ion.upload.cli.walk"] = "lua/ion/upload/cli/walk.lua",
    ["ion.upload.cli.watch"] = "lua/ion/upload/cli/watch.lua",
    ["ion.upload.cli.watch_status"] = "lua/ion/upload/cli/watch_status.lua",
    ["ion.upload.config"] = "lua/ion/upload/config.lua",
    ["ion.upload.context"] = "lua/ion/upload/context.lua",
    ["ion.upload.documents"] = "lua/ion/upload/documents.lua",
    ["ion.upload.engine.items"] = "lua/ion/upload/engine/items.lua",
    ["ion.upload.engine.lookups"] = "lua/ion/upload/engine/lookups.lua",
    ["ion.upload.engine.outcomes"] = "lua/ion/upload/engine/outcomes.lua",
    ["ion.upload.engine.plan"] = "lua/ion/upload/engine/plan.lua",
    ["ion.upload.engine.puts"] = "lua/ion/upload/engine/puts.lua",
    ["ion.upload.engine.registrations"] = "lua/ion/upload/engine/registrations.lua",
    ["ion.upload.engine.run"] = "lua/ion/upload/engine/run.lua",
    ["ion.upload.engine.send"] = "lua/ion/upload/engine/send.lua",
    ["ion.upload.engine.traffic"] = "lua/ion/upload/engine/traffic.lua",
    ["ion.upload.engine.urls"] = "lua/ion/upload/engine/urls.lua",
    ["ion.upload.engine.windows"] = "lua/ion/upload/engine/windows.lua",
    ["ion.upload.environments"] = "lua/ion/upload/environments.lua",
    ["ion.upload.errors"] = "lua/ion/upload/errors.lua",
    ["ion.upload.files"] = "lua/ion/upload/files.lua",
    ["ion.upload.glob"] = "lua/ion/upload/glob.lua",
    ["ion.upload.graphql"] = "lua/ion/upload/graphql.lua",
    ["ion.upload.graphql.literal"] = "lua/ion/upload/graphql/literal.lua",
    ["ion.upload.graphql_operation"] = "lua/ion/upload/graphql_operation.lua",
    ["ion.upload.job"] = "lua/ion/upload/job.lua",
    ["ion.upload.journal"] = "lua/ion/upload/journal.lua",
    ["ion.upload.journal_compact"] = "lua/ion/upload/journal_compact.lua",
    ["ion.upload.journal_state"] = "lua/ion/upload/journal_state.lua",
    ["ion.upload.luv"] = "lua/ion/upload/luv.lua",
    ["ion.upload.cqueues"] = "lua/ion/upload/cqueues.lua",
    ["ion.upload.cli.manifest"] = "lua/ion/upload/cli/manifest.lua",
    ["ion.upload.cli.csv"] = "lua/ion/upload/cli/csv.lua",
    ["ion.upload.cli.inputs"] = "lua/ion/upload/cli/inputs.lua",
    ["ion.upload.cli.reorder"] = "lua/ion/upload/cli/reorder.lua",
    ["ion.upload.cli.stream"] = "lua/ion/upload/cli/stream.lua",
    ["ion.upload.verify"] = "lua/ion/upload/verify.lua",
    ["ion.upload.cli.verify"] = "lua/ion/upload/cli/verify.lua",
    ["ion.upload.cli.verify_inputs"] = "lua/ion/upload/cli/verify_inputs.lua",
    ["ion.upload.cli.receipts"] = "lua/ion/upload/cli/receipts.lua",
    ["ion.upload.messages"] = "lua/ion/upload/messages.lua",
    ["ion.upload.plan"] = "lua/ion/upload/plan.lua",
    ["ion.upload.queries"] = "lua/ion/upload/queries.lua",
    ["ion.upload.registration"] = "lua/ion/upload/registration.lua",
    ["ion.upload.retry"] = "lua/ion/upload/retry.lua",
    ["ion.upload.scrub"] = "lua/ion/upload/scrub.lua",
    ["ion.upload.steps"] = "lua/ion/upload/steps.lua",
    ["ion.upload.storage"] = "lua/ion/upload/storage.lua",
    ["ion.upload.targets"] = "lua/ion/upload/targets.lua",
    ["ion.upload.transport"] = "lua/ion/upload/transport.lua",
    ["ion.upload.untrusted"] = "lua/ion/upload/untrusted.lua",
    ["ion.upload.watch"] = "lua/ion/upload/watch.lua",
    ["ion.upload.watch_rules"] = "lua/ion/upload/watch_rules.lua",
    ["ion.upload.watch.after"] = "lua/ion/upload/watch/after.lua",
    ["ion.upload.watch.candidates"] = "lua/ion/upload/watch/candidates.lua",
    ["ion.upload.watch.folders"] = "lua/ion/upload/watch/folders.lua",
    ["ion.upload.watch.lua_pattern"] = "lua/ion/upload/watch/lua_pattern.lua",
    ["ion.upload.watch.options"] = "lua/ion/upload/watch/options.lua",
    ["ion.upload.watch.outage"] = "lua/ion/upload/watch/outage.lua",
    ["ion.upload.watch.outcomes"] = "lua/ion/upload/watch/outcomes.lua",
  },
  install = {
    bin = { ["ion-upload"] = "bin/ion-upload" },
  },
}
