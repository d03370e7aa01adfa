#include "server/auth/plaintext_warning.h"

#include "server/log.h"

namespace aad {

void WarnIfTokensInPlaintext(bool tls) {
  if (tls) return;
  LogWarning("",
             "bearer tokens are on but TLS is off: tokens cross the network in plaintext and "
             "anyone on the path can read and replay them; serve TLS or keep aadd behind a "
             "TLS-terminating proxy on a trusted network");
}

}  // namespace aad
