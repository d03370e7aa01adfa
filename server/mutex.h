// The mutex and condition variable moved to core/util/mutex.h, so that the
// client (which never includes server/) can use them too.
#ifndef AADD_SERVER_MUTEX_H_
#define AADD_SERVER_MUTEX_H_

#include "core/util/mutex.h"

#endif  // AADD_SERVER_MUTEX_H_
