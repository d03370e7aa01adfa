// Bearer tokens sent in plaintext can be read by anyone on the path: aadd
// says so at start when tokens are on and TLS is not.
#ifndef AADD_SERVER_AUTH_PLAINTEXT_WARNING_H_
#define AADD_SERVER_AUTH_PLAINTEXT_WARNING_H_

namespace aad {

// Logs a warning when `tls` is false; call it only with tokens on.
void WarnIfTokensInPlaintext(bool tls);

}  // namespace aad

#endif  // AADD_SERVER_AUTH_PLAINTEXT_WARNING_H_
