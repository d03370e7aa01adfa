// Requests protobuf cannot parse (issue 17, defect 4): a proto3 string field
// holding bytes that are not UTF-8, or bytes that are no message at all,
// are INVALID_ARGUMENT with a message naming the message type and the field,
// on every kind of call, instead of gRPC's UNIMPLEMENTED with an empty
// message. Sent as an outside client would: hand-encoded bytes through the
// generic stub, and for the streams the generated stub (C++ protobuf
// serializes a string that is not UTF-8 as it is, with a logged complaint).
#include <future>
#include <string>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/integration/server_fixture.h"

namespace aad::testing {
namespace {

constexpr char kService[] = "/aad.v1.ActiveAnomalyDetection/";

class RequestParsingTest : public ServerFixture {
 protected:
  // A unary call of `method` with `bytes` as its request message.
  grpc::Status RawCall(const std::string& method, const std::string& bytes,
                       const std::string& session_metadata = "") {
    grpc::GenericStub generic(client_->channel());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    if (!session_metadata.empty()) context.AddMetadata("x-session-id", session_metadata);
    grpc::Slice slice(bytes.data(), bytes.size());
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context, absl::StrCat(kService, method), grpc::StubOptions(), &request,
                      &response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
    return done.get_future().get();
  }
};

// Field 1 (session_id), length-delimited, two bytes that are not UTF-8.
const std::string kBadSessionId("\x0a\x02\xff\xfe", 4);

TEST_F(RequestParsingTest, SessionIdThatIsNotUtf8IsInvalidArgumentNamingTheField) {
  const grpc::Status s = RawCall("GetSession", kBadSessionId);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("aad.v1.GetSessionRequest.session_id"), std::string::npos)
      << s.error_message();
  EXPECT_NE(s.error_message().find("UTF-8"), std::string::npos) << s.error_message();
  // The bytes are quoted escaped, never as they came.
  EXPECT_NE(s.error_message().find("\\xff\\xfe"), std::string::npos) << s.error_message();
  // The same on the other unary calls that take a session id.
  for (const std::string method :
       {"DeleteSession", "Score", "GetQueryCandidates", "SubmitLabels"}) {
    const grpc::Status other = RawCall(method, kBadSessionId);
    EXPECT_EQ(other.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << method << ": " << other.error_message();
    EXPECT_NE(other.error_message().find(".session_id"), std::string::npos)
        << method << ": " << other.error_message();
  }
  // A valid id still parses: unknown, so NOT_FOUND.
  EXPECT_EQ(RawCall("GetSession", std::string("\x0a\x02ok", 4)).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(RequestParsingTest, RepeatedStringFieldIsNamedWithItsIndex) {
  // CreateSessionRequest.feature_names (field 2): "a", then 0xc3 alone.
  const std::string bytes("\x12\x01" "a" "\x12\x01\xc3", 6);
  const grpc::Status s = RawCall("CreateSession", bytes);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("aad.v1.CreateSessionRequest.feature_names[1]"),
            std::string::npos)
      << s.error_message();
  // ListSessionsRequest.page_token (field 2).
  const grpc::Status list = RawCall("ListSessions", std::string("\x12\x01\x80", 3));
  EXPECT_EQ(list.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << list.error_message();
  EXPECT_NE(list.error_message().find("page_token"), std::string::npos) << list.error_message();
}

TEST_F(RequestParsingTest, BytesThatAreNoMessageAreInvalidArgumentNamingTheType) {
  // Field 1 announces 5 bytes; 2 follow.
  const grpc::Status s = RawCall("GetSession", std::string("\x0a\x05" "ab", 4));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("aad.v1.GetSessionRequest"), std::string::npos)
      << s.error_message();
}

TEST_F(RequestParsingTest, SessionIdMetadataThatIsNoValidIdIsInvalidArgumentNamingIt) {
  // An empty GetSessionRequest: the id comes from the metadata only.
  const grpc::Status s = RawCall("GetSession", "", "not an id!");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("x-session-id"), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find("not an id!"), std::string::npos) << s.error_message();
  // A well-formed id there is looked up as before.
  EXPECT_EQ(RawCall("GetSession", "", "no-such-session").error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(RequestParsingTest, TrainRequestThatIsNotUtf8IsInvalidArgument) {
  grpc::ClientContext context;
  v1::TrainRequest request;
  request.set_session_id(std::string("\xff", 1));
  auto reader = client_->stub()->Train(&context, request);
  v1::TrainResponse progress;
  while (reader->Read(&progress)) {
  }
  const grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("aad.v1.TrainRequest.session_id"), std::string::npos)
      << s.error_message();
}

// In a stream, the message that does not parse ends the call with
// INVALID_ARGUMENT naming it (not as if the client had closed its side,
// which answered OK and dropped the batches after it); the batches before
// it stay stored.
TEST_F(RequestParsingTest, IngestMessageThatIsNotUtf8EndsTheStreamNamingIt) {
  const std::string id = NewSession();
  ASSERT_FALSE(id.empty());
  grpc::ClientContext context;
  v1::IngestResponse response;
  auto stream = client_->stub()->Ingest(&context, &response);
  v1::IngestRequest batch;
  batch.set_session_id(id);
  batch.set_feature_count(2);
  batch.add_values(1.0f);
  batch.add_values(2.0f);
  batch.set_batch_id("good");
  ASSERT_TRUE(stream->Write(batch));
  batch.set_batch_id(std::string("bad\xff", 4));
  stream->Write(batch);
  batch.set_batch_id("after");
  stream->Write(batch);
  stream->WritesDone();
  const grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("aad.v1.IngestRequest.batch_id"), std::string::npos)
      << s.error_message();
  EXPECT_NE(s.error_message().find("message 2"), std::string::npos) << s.error_message();
  auto info = client_->GetSession(id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rows(), 1);
}

TEST_F(RequestParsingTest, ImportMessageThatIsNotUtf8IsInvalidArgument) {
  grpc::ClientContext context;
  v1::ImportSessionResponse response;
  auto stream = client_->stub()->ImportSession(&context, &response);
  v1::ImportSessionRequest chunk;
  chunk.set_session_id(std::string("\xc0\xaf", 2));  // an overlong '/'
  chunk.set_chunk("bytes");
  stream->Write(chunk);
  stream->WritesDone();
  const grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("aad.v1.ImportSessionRequest.session_id"), std::string::npos)
      << s.error_message();
}

}  // namespace
}  // namespace aad::testing
