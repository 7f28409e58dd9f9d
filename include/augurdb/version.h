// Library version. Bumped by hand at release; the Python package reads the same numbers.
#pragma once

#define AUGURDB_VERSION_MAJOR 0
#define AUGURDB_VERSION_MINOR 1
#define AUGURDB_VERSION_PATCH 0
#define AUGURDB_VERSION_STRING "0.1.0"
