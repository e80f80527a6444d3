#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <vector>

namespace pixelcraft::test {

std::string server_process::default_binary() {
  // A benchmark run against another build: PIXELCRAFT_BENCH_BINARY names its binary.
  if (const char* other = std::getenv("PIXELCRAFT_BENCH_BINARY"); other && *other)
    return other;
  return PIXELCRAFT_BINARY;
}

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> make_env(std::map<std::string, std::string> env) {
  if (!env.count("PATH"))
    env["PATH"] = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  if (!env.count("PIXELCRAFT_ENV_FILE"))
    env["PIXELCRAFT_ENV_FILE"] = "/dev/null";
  // The sanitizer build (scripts/test.sh) configures reports through the environment; the
  // child gets a clean one, so pass these through or its reports would not halt or vanish.
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"})
    if (!env.count(name) && std::getenv(name))
      env[name] = std::getenv(name);
  std::vector<std::string> out;
  for (auto& [k, v] : env)
    out.push_back(k + "=" + v);
  return out;
}

pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env,
            const std::string& out_path, const std::string& err_path) {
  pid_t pid = fork();
  if (pid != 0)
    return pid;
  int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2(out, 1);
  dup2(err, 2);
  std::vector<char*> argv, envp;
  for (auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  execve(argv[0], argv.data(), envp.data());
  _exit(127);
}

std::string temp_path(const char* suffix) {
  char tmpl[] = "/tmp/pxsrv.XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd >= 0)
    close(fd);
  return std::string{tmpl} + suffix;
}

/// The first AddressSanitizer, LeakSanitizer or UBSan report in `err` (from its line on, at
/// most 16 KB), or empty.
std::string sanitizer_report(const std::string& err) {
  auto at = std::string::npos;
  for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                             ": runtime error: ", "WARNING: AddressSanitizer"})
    at = std::min(at, err.find(marker));
  if (at == std::string::npos)
    return {};
  auto bol = err.rfind('\n', at);
  auto from = bol == std::string::npos ? 0 : bol + 1;
  return err.substr(from, 16 * 1024);
}

/// A sanitizer report in a child's stderr fails the current test, whatever its exit status
/// (a test that kills the server would not notice otherwise). Returns true when one was found:
/// the caller then keeps the file.
bool fail_on_sanitizer_report(const std::string& err_path, const std::string& what) {
  auto report = sanitizer_report(slurp(err_path));
  if (report.empty())
    return false;
  ADD_FAILURE() << "sanitizer report from " << what << " (stderr kept in " << err_path << "):\n"
                << report;
  return true;
}

} // namespace

server_process::~server_process() {
  if (pid_ > 0)
    kill9();
  if (!out_path_.empty()) {
    std::remove(out_path_.c_str());
    if (!fail_on_sanitizer_report(err_path_, "the server"))
      std::remove(err_path_.c_str());
  }
}

bool server_process::start(std::map<std::string, std::string> env, int timeout_s) {
  if (!env.count("APP_PORT"))
    env["APP_PORT"] = "0";
  if (!env.count("APP_HOST"))
    env["APP_HOST"] = "127.0.0.1";
  out_path_ = temp_path(".out");
  err_path_ = temp_path(".err");
  std::vector<std::string> argv{binary_.empty() ? default_binary() : binary_};
  argv.insert(argv.end(), args_.begin(), args_.end());
  pid_ = spawn(argv, make_env(env), out_path_, err_path_);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  const std::string marker = "listening on http://";
  while (std::chrono::steady_clock::now() < deadline) {
    auto text = slurp(out_path_);
    if (auto pos = text.find(marker); pos != std::string::npos) {
      auto colon = text.find(':', pos + marker.size());
      auto eol = text.find('\n', colon);
      if (colon != std::string::npos && eol != std::string::npos) {
        port_ = std::atoi(text.substr(colon + 1, eol - colon - 1).c_str());
        return port_ > 0;
      }
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int server_process::run(const std::string& args, std::map<std::string, std::string> env,
                        std::string* output) {
  auto out = temp_path(".out");
  auto err = temp_path(".err");
  std::vector<std::string> argv{PIXELCRAFT_BINARY};
  std::istringstream in{args};
  for (std::string a; in >> a;)
    argv.push_back(a);
  pid_t pid = spawn(argv, make_env(std::move(env)), out, err);
  int status = 0;
  waitpid(pid, &status, 0);
  if (output)
    *output = slurp(out) + slurp(err);
  std::remove(out.c_str());
  if (!fail_on_sanitizer_report(err, "`pixelcraft " + args + "`"))
    std::remove(err.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int server_process::stop() {
  if (pid_ <= 0)
    return exit_code_;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 300; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      return exit_code_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  dump_stacks();
  kill9();
  return exit_code_;
}

void server_process::dump_stacks() const {
  // A hung shutdown is otherwise a bare "137": append every thread's stack to the server's
  // stderr (which failing tests print) when gdb is there to take it.
  if (access("/usr/bin/gdb", X_OK) != 0)
    return;
  std::string cmd = "timeout 30 /usr/bin/gdb -p " + std::to_string(pid_) +
                    " -batch -nx -ex 'thread apply all bt' >>" + err_path_ + " 2>&1";
  if (std::system(cmd.c_str()) != 0)
    return;
}

void server_process::kill9() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_code_ = 128 + SIGKILL;
  pid_ = -1;
}

std::string server_process::stdout_text() const {
  return slurp(out_path_);
}

std::string server_process::stderr_text() const {
  return slurp(err_path_);
}

} // namespace pixelcraft::test
