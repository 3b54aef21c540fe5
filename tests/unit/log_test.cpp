#include "k3sjoin/log/log.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace k3sjoin::log {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

mode_t file_mode(const fs::path& path) {
  struct stat status {};
  EXPECT_EQ(::lstat(path.c_str(), &status), 0);
  return status.st_mode & 07777;
}

class LogFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() / ("k3sjoin-log-test-" + std::to_string(::getpid()));
    fs::remove_all(directory_);
    fs::create_directories(directory_);
    previous_ = spdlog::default_logger();
  }

  void TearDown() override {
    // Later tests log through the default logger; give them back the one they had.
    spdlog::set_default_logger(previous_);
    fs::remove_all(directory_);
  }

  std::optional<std::string> setup_with_file(const fs::path& path) {
    LogOptions options;
    options.log_file = path;
    return setup(options);
  }

  fs::path directory_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(LogFileTest, NewFileHasMode0600) {
  const fs::path path = directory_ / "new" / "k3sjoin.log";
  ASSERT_EQ(setup_with_file(path), std::nullopt);
  EXPECT_EQ(file_mode(path), 0600U);
}

TEST_F(LogFileTest, ExistingFileTruncatedToMode0600) {
  const fs::path path = directory_ / "k3sjoin.log";
  {
    std::ofstream old(path);
    old << "an older run\n";
  }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_EQ(setup_with_file(path), std::nullopt);
  EXPECT_EQ(file_mode(path), 0600U);
  spdlog::info("new run");
  flush();
  const std::string text = read_file(path);
  EXPECT_EQ(text.find("an older run"), std::string::npos);
  EXPECT_NE(text.find("new run"), std::string::npos);
}

TEST_F(LogFileTest, SymlinkAtPathIsRejected) {
  // A link planted at the log path must not redirect the log, or truncate its target.
  const fs::path target = directory_ / "target";
  {
    std::ofstream file(target);
    file << "keep me\n";
  }
  ASSERT_EQ(::chmod(target.c_str(), 0644), 0);
  const fs::path link = directory_ / "k3sjoin.log";
  fs::create_symlink(target, link);
  auto error = setup_with_file(link);
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("cannot open log file " + link.string()), std::string::npos) << *error;
  EXPECT_EQ(read_file(target), "keep me\n");
  EXPECT_EQ(file_mode(target), 0644U);
}

TEST_F(LogFileTest, FifoAtPathIsRejected) {
  const fs::path path = directory_ / "k3sjoin.log";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto error = setup_with_file(path);
  ASSERT_TRUE(error.has_value());
}

TEST_F(LogFileTest, FileOfAnotherUserIsRejected) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "changing a file's owner needs root";
  }
  const fs::path path = directory_ / "k3sjoin.log";
  {
    std::ofstream file(path);
    file << "owned by nobody\n";
  }
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  auto error = setup_with_file(path);
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("not a regular file owned by the current user"), std::string::npos)
      << *error;
  EXPECT_EQ(read_file(path), "owned by nobody\n");
}

TEST_F(LogFileTest, RegisteredSecretIsRedactedInFile) {
  const fs::path path = directory_ / "k3sjoin.log";
  ASSERT_EQ(setup_with_file(path), std::nullopt);
  const std::string token = "K10abc::server:0123456789abcdef";
  const std::string_view password = std::string_view(token).substr(15);
  register_secret(token);
  register_secret(password);
  spdlog::info("token {} and password {}", token, password);
  forget_secret(token);  // removes the password view inside it too
  spdlog::info("after forget {}", password);
  flush();
  const std::string text = read_file(path);
  EXPECT_NE(text.find("token <redacted> and password <redacted>"), std::string::npos) << text;
  EXPECT_NE(text.find("after forget 0123456789abcdef"), std::string::npos) << text;
}

TEST_F(LogFileTest, ForgetKeepsEqualSecretRegisteredElsewhere) {
  const fs::path path = directory_ / "k3sjoin.log";
  ASSERT_EQ(setup_with_file(path), std::nullopt);
  const std::string first = "same-secret-value";
  const std::string second = "same-secret-value";
  register_secret(first);
  register_secret(second);
  forget_secret(first);
  spdlog::info("value {}", second);
  forget_secret(second);
  flush();
  EXPECT_NE(read_file(path).find("value <redacted>"), std::string::npos);
}

}  // namespace
}  // namespace k3sjoin::log
