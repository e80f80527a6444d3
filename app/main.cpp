#include "app/cli.hpp"

#include <cstdio>
#include <cstring>

namespace {

void usage(std::FILE* out) {
  std::fprintf(out, "usage: pixelcraft <command>\n\n"
                    "commands:\n"
                    "  serve     apply pending migrations, then serve HTTP on APP_HOST:APP_PORT\n"
                    "            (--role gateway: answer HTTP only; workers run the workflows)\n"
                    "  node      a cluster worker: runs workflows, no public HTTP (CLUSTER_PORT)\n"
                    "  migrate   apply pending database migrations and exit\n"
                    "  version   print the version\n\n"
                    "Configuration comes from the environment and an optional .env file\n"
                    "(PIXELCRAFT_ENV_FILE, default ./.env); see README.md.\n");
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  auto cmd = argv[1];
  if (!std::strcmp(cmd, "serve")) {
    if (argc == 2)
      return pixelcraft::app::run_serve("all");
    if (argc == 4 && !std::strcmp(argv[2], "--role") &&
        (!std::strcmp(argv[3], "gateway") || !std::strcmp(argv[3], "all")))
      return pixelcraft::app::run_serve(argv[3]);
    std::fprintf(stderr, "pixelcraft: serve takes only --role gateway or --role all\n\n");
    usage(stderr);
    return 2;
  }
  if (!std::strcmp(cmd, "node") && argc == 2)
    return pixelcraft::app::run_serve("worker");
  if (!std::strcmp(cmd, "migrate"))
    return pixelcraft::app::run_migrate();
  if (!std::strcmp(cmd, "version") || !std::strcmp(cmd, "--version")) {
    std::printf("pixelcraft %s\n", PIXELCRAFT_VERSION);
    return 0;
  }
  if (!std::strcmp(cmd, "help") || !std::strcmp(cmd, "--help") || !std::strcmp(cmd, "-h")) {
    usage(stdout);
    return 0;
  }
  std::fprintf(stderr, "pixelcraft: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return 2;
}
