// Symbol visibility for the installed library: everything is hidden by default
// (-fvisibility=hidden) and the public API opts in with AUGURDB_EXPORT.
#pragma once

#if defined(_WIN32)
#define AUGURDB_EXPORT
#else
#define AUGURDB_EXPORT [[gnu::visibility("default")]]
#endif
