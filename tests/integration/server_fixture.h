// A test fixture that runs the real aadd server in-process on a free port
// and a client connected to it. Sessions live in a MemorySessionStore (fast);
// a subclass that sets durable_store_ in its constructor gets the SQLite
// store in a fresh temporary directory instead.
#ifndef AADD_TESTS_INTEGRATION_SERVER_FIXTURE_H_
#define AADD_TESTS_INTEGRATION_SERVER_FIXTURE_H_

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include "tests/testing/temp_dir.h"
#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "server/log.h"
#include "server/server.h"
#include "server/storage/memory_session_store.h"
#include "server/storage/sqlite_session_store.h"

namespace aad::testing {

class ServerFixture : public ::testing::Test {
 protected:
  // Subclasses adjust options before the server starts.
  virtual void Configure(aad::ServerOptions* options) { (void)options; }

  void SetUp() override {
    aad::SetLoggingEnabled(false);
    aad::ServerOptions options;
    options.address = "127.0.0.1:0";
    options.sessions.training_threads = 2;
    if (durable_store_) {
      data_dir_ = std::make_unique<TempDir>();
      ASSERT_FALSE(data_dir_->path().empty());
      auto opened = aad::SqliteSessionStore::Open(data_dir_->path());
      ASSERT_TRUE(opened.ok()) << opened.status();
      store_ = *std::move(opened);
    } else {
      store_ = std::make_unique<aad::MemorySessionStore>();
    }
    options.sessions.store = store_.get();
    Configure(&options);
    auto server = aad::AaddServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    aad::ClientOptions client_options;
    client_options.target = absl::StrCat("127.0.0.1:", server_->port());
    client_options.timeout = std::chrono::seconds(300);
    client_ = std::make_unique<aad::AadClient>(client_options);
  }

  void TearDown() override {
    client_.reset();
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
    server_.reset();
    store_.reset();
    data_dir_.reset();
  }

  // A session with a small, fast model.
  std::string NewSession(int pretrain_epochs = 5) {
    aad::v1::CreateSessionRequest request;
    request.mutable_config()->set_pretrain_epochs(pretrain_epochs);
    request.mutable_config()->set_hidden_units(16);
    request.mutable_config()->set_latent_units(4);
    auto info = client_->CreateSession(request);
    EXPECT_TRUE(info.ok()) << info.status();
    return info.ok() ? info->session_id() : "";
  }

  bool durable_store_ = false;
  std::unique_ptr<TempDir> data_dir_;  // the SQLite store's directory when durable_store_
  std::unique_ptr<aad::SessionStore> store_;  // outlives server_
  std::unique_ptr<aad::AaddServer> server_;
  std::unique_ptr<aad::AadClient> client_;
};

}  // namespace aad::testing

#endif  // AADD_TESTS_INTEGRATION_SERVER_FIXTURE_H_
