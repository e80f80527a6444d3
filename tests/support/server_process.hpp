#pragma once
/// Runs the real `pixelcraft serve` binary as a child process on 127.0.0.1, port 0, and reads
/// the bound port from its "listening on" line. Output is kept for assertions.

#include <sys/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace pixelcraft::test {

class server_process {
public:
  ~server_process();

  /// Another build of the server to start (benchmarks compare two builds in one run), or a
  /// wrapper that execs it (`ip netns exec ...`, with the binary among the arguments).
  void set_binary(std::string path) { binary_ = std::move(path); }
  /// This build's server binary (`PIXELCRAFT_BENCH_BINARY` names another, for benchmarks).
  static std::string default_binary();
  /// The command and its arguments (default `serve`), e.g. `{"node"}` for a cluster worker.
  void set_args(std::vector<std::string> args) { args_ = std::move(args); }
  /// Starts with exactly `env` (plus PATH). Returns false if it exited or did not listen
  /// within `timeout_s`; `exit_code()` and `stderr_text()` then tell why.
  bool start(std::map<std::string, std::string> env, int timeout_s = 30);
  /// Runs the binary with `args` (e.g. "migrate") to completion; returns its exit code.
  static int run(const std::string& args, std::map<std::string, std::string> env,
                 std::string* output = nullptr);

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  /// SIGTERM and wait (graceful); returns the exit status.
  int stop();
  void kill9();
  std::string stdout_text() const;
  std::string stderr_text() const;
  int exit_code() const { return exit_code_; }
  pid_t pid() const { return pid_; }

private:
  /// Appends every thread's stack to stderr (with gdb, if installed) before a forced kill.
  void dump_stacks() const;

  std::string binary_; ///< empty: the build's own binary
  std::vector<std::string> args_{"serve"};
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
  std::string out_path_;
  std::string err_path_;
};

} // namespace pixelcraft::test
