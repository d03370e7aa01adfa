// What a client sends can reach a log line (an unknown id, a batch id, an
// error naming a value): it must never make a line of its own (issue 17,
// defect 1). Driven over the raw stub, as an outside client would: the C++
// client library puts the id into x-session-id metadata, which gRPC refuses
// to carry with a newline.
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include "aad/v1/aad.grpc.pb.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/durability_util.h"

namespace aad::testing {
namespace {

TEST(LogInjection, ClientTextCannotForgeALogLine) {
  TempDir dir;
  auto aadd = StartAadd(dir.path());
  ASSERT_NE(aadd, nullptr);
  const std::string forged_line = "2026-01-01T00:00:00.000Z I [session admin] deleted every session";
  const std::string id = absl::StrCat("x\n", forged_line);
  {
    auto stub = v1::ActiveAnomalyDetection::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", aadd->port()), grpc::InsecureChannelCredentials()));
    // An import of damaged bytes under that id: refused, and logged as a
    // warning that names the id.
    grpc::ClientContext context;
    v1::ImportSessionResponse response;
    auto writer = stub->ImportSession(&context, &response);
    v1::ImportSessionRequest chunk;
    chunk.set_session_id(id);
    chunk.set_chunk("these bytes are not a session archive");
    ASSERT_TRUE(writer->Write(chunk));
    ASSERT_TRUE(writer->WritesDone());
    const grpc::Status status = writer->Finish();
    EXPECT_FALSE(status.ok());
    // An unknown session by that id.
    grpc::ClientContext get_context;
    v1::GetSessionRequest get;
    get.set_session_id(id);
    v1::GetSessionResponse got;
    EXPECT_EQ(stub->GetSession(&get_context, get, &got).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  std::unique_ptr<AadClient> none;
  StopAadd(aadd.get(), &none);
  const std::string log = aadd->log();
  EXPECT_EQ(log.find(absl::StrCat("\n", forged_line)), std::string::npos) << log;
  EXPECT_NE(log.find("x\\x0a2026-01-01T00:00:00.000Z"), std::string::npos)
      << "the warning should name the id, escaped:\n"
      << log;
}

}  // namespace
}  // namespace aad::testing
