// xdpflow: an XDP flow cache for Linux gateways. main() only parses the
// command line and turns errors into one line and an exit code:
// 0 ok, 1 runtime failure, 2 usage error.
#include <CLI/CLI.hpp>
#include <bpf/libbpf.h>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "cmd/commands.h"
#include "core/error.h"
#include "xdpflow/version.h"

// libbpf reports on stderr (probe failures, whole verifier logs): details
// behind the one line xdpflow prints for the same failure, shown only with
// XDPFLOW_LIBBPF_DEBUG=1.
static int libbpf_print(enum libbpf_print_level level, const char *format, va_list args) {
  static const bool debug = std::getenv("XDPFLOW_LIBBPF_DEBUG") != nullptr;
  if (!debug || level == LIBBPF_DEBUG)
    return 0;
  return std::vfprintf(stderr, format, args);
}

int main(int argc, char **argv) {
  libbpf_set_print(libbpf_print);
  std::setvbuf(stdout, nullptr, _IOLBF, 0); // progress lines reach pipes and journald promptly
  CLI::App app{"xdpflow: XDP flow cache for Linux gateways", "xdpflow"};
  app.set_version_flag("--version", "xdpflow " XDPFLOW_VERSION);
  app.require_subcommand(1);
  // One line per usage error, like every other error (CLI11's default adds
  // a second "Run with --help" line).
  app.failure_message([](const CLI::App *, const CLI::Error &e) {
    return "xdpflow: " + std::string(e.what()) + " (see --help)\n";
  });
  xdpflow::cmd::register_all(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RequiredError &e) {
    // CLI11 reports an unknown command as a missing one; name it instead.
    if (argc > 1 && argv[1][0] != '-' && app.get_subcommands().empty()) {
      std::fprintf(stderr,
                   "xdpflow: unknown command '%s' (commands: attach, detach, stats, flows, "
                   "status; see xdpflow --help)\n",
                   argv[1]);
      return 2;
    }
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const CLI::ParseError &e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const xdpflow::UsageError &e) {
    std::fprintf(stderr, "xdpflow: %s\n", e.what());
    return 2;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "xdpflow: %s\n", e.what());
    return 1;
  }
  return 0;
}
