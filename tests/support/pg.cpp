#include "tests/support/pg.hpp"

#include <pqxx/pqxx>

#include <atomic>
#include <cstdlib>
#include <random>
#include <unistd.h>

namespace pixelcraft::test {

namespace {

std::string env(const char* k) {
  auto* v = std::getenv(k);
  return v ? v : "";
}

std::string unique_name(const char* prefix) {
  static std::atomic<int> n{0};
  std::random_device rd;
  return std::string{prefix} + std::to_string(getpid()) + "_" + std::to_string(n++) + "_" +
         std::to_string(rd() % 100000);
}

int run(const std::string& cmd) {
  return std::system(cmd.c_str());
}

} // namespace

std::string admin_dsn() {
  return env("PIXELCRAFT_TEST_PG_DSN");
}

std::string source_dir() {
  return PIXELCRAFT_SOURCE_DIR;
}

std::string create_database() {
  auto name = unique_name("pxt_");
  pqxx::connection c{admin_dsn()};
  pqxx::nontransaction n{c};
  n.exec("CREATE DATABASE " + name);
  auto dsn = admin_dsn();
  auto pos = dsn.find("dbname=");
  if (pos == std::string::npos)
    return dsn + " dbname=" + name;
  auto end = dsn.find(' ', pos);
  return dsn.substr(0, pos) + "dbname=" + name + (end == std::string::npos ? "" : dsn.substr(end));
}

bool own_cluster::start() {
  auto start_at = [this] {
    return run(source_dir() + "/scripts/pg-cluster.sh start " + dir + " " + std::to_string(port) +
               " >/dev/null") == 0;
  };
  if (!dir.empty())
    return start_at(); // a restart keeps its port: the server under test knows that one
  char tmpl[] = "/tmp/pxown.XXXXXX";
  if (!mkdtemp(tmpl))
    return false;
  dir = tmpl;
  // Below Linux's ephemeral range (32768+), where outgoing connections take ports; a port
  // another process holds anyway gets a second and third try.
  std::random_device rd;
  for (int attempt = 0; attempt < 3; ++attempt) {
    port = 20000 + static_cast<int>(rd() % 12000);
    if (start_at())
      return true;
  }
  return false;
}

bool own_cluster::stop() {
  return run(source_dir() + "/scripts/pg-cluster.sh stop " + dir) == 0;
}

std::string own_cluster::uri() const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/postgres";
}

own_cluster::~own_cluster() {
  if (!dir.empty()) {
    stop();
    run("rm -rf " + dir);
  }
}

} // namespace pixelcraft::test
