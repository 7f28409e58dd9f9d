// Assertions for programmer errors (never for user input, which gets a Status).
// AUGUR_CHECK is always on and guards memory safety; AUGUR_DCHECK is for debug builds only.
#pragma once

#include <cstdio>
#include <cstdlib>

#define AUGUR_CHECK(cond)                                                              \
  do {                                                                                 \
    if (!(cond)) [[unlikely]] {                                                        \
      std::fprintf(stderr, "augurdb: check failed at %s:%d: %s\n", __FILE__, __LINE__, \
                   #cond);                                                             \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

#ifdef NDEBUG
#define AUGUR_DCHECK(cond) \
  do {                     \
  } while (0)
#else
#define AUGUR_DCHECK(cond) AUGUR_CHECK(cond)
#endif
