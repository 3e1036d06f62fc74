// TestCluster: a throwaway embedded cluster in a fresh directory under the temp dir, for
// tests. The destructor stops the server and deletes the directory, also when a test fails
// (Catch2's REQUIRE unwinds). Works as root: the directory is made searchable so the
// cluster's user (postgres) can reach it.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "engine/store/embedded_cluster.h"

namespace acd::store::testing {

class TestCluster {
 public:
  TestCluster() {
    std::string pattern = (std::filesystem::temp_directory_path() / "acd-store-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    root_ = pattern;
    ::chmod(root_.c_str(), 0711);
    EmbeddedClusterOptions options;
    options.dir = root_ / "pg";
    auto started = EmbeddedCluster::start(options);
    if (!started) {
      remove();
      FAIL("embedded cluster: " << started.error().message);
    }
    cluster_ = std::move(started).value();
  }
  ~TestCluster() {
    if (cluster_) {
      auto stopped = cluster_->stop();
      if (!stopped) WARN(stopped.error().message);
      cluster_.reset();
    }
    remove();
  }
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  EmbeddedCluster& cluster() { return *cluster_; }
  const std::string& dsn() const { return cluster_->dsn(); }
  const std::filesystem::path& root() const { return root_; }

 private:
  void remove() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  std::filesystem::path root_;
  std::unique_ptr<EmbeddedCluster> cluster_;
};

}  // namespace acd::store::testing
