#pragma once
/// Real-PostgreSQL test support. The DSN of a running cluster comes from
/// PIXELCRAFT_TEST_PG_DSN (scripts/test.sh starts a throwaway one). Without it a test skips,
/// unless PIXELCRAFT_REQUIRE_PG=1 (CI), where it fails.

#include <gtest/gtest.h>

#include <string>

namespace pixelcraft::test {

/// The admin DSN, or empty.
std::string admin_dsn();

/// Creates a fresh, empty database and returns its DSN (key=value form).
std::string create_database();

/// Starts a separate cluster for tests that stop and restart the database. Returns its DSN.
struct own_cluster {
  std::string dir;
  int port = 0;
  bool start();
  bool stop();
  std::string uri() const;
  ~own_cluster();
};

/// The repository root (scripts live there).
std::string source_dir();

} // namespace pixelcraft::test

#define PIXELCRAFT_REQUIRE_PG()                                                                    \
  do {                                                                                             \
    if (::pixelcraft::test::admin_dsn().empty()) {                                                 \
      const char* req = std::getenv("PIXELCRAFT_REQUIRE_PG");                                      \
      if (req && std::string{req} == "1")                                                          \
        FAIL() << "PIXELCRAFT_TEST_PG_DSN is not set but PIXELCRAFT_REQUIRE_PG=1";                 \
      GTEST_SKIP() << "PIXELCRAFT_TEST_PG_DSN not set";                                            \
    }                                                                                              \
  } while (false)
