import os
import subprocess
import sys

import augurdb


def test_version_and_build_info():
    info = augurdb.build_info()
    assert augurdb.__version__ == info["version"]
    assert info["simd"] in ("avx512", "avx2", "neon", "scalar")
    assert info["simd_detected"] in ("avx512", "avx2", "neon", "scalar")
    assert info["compiler"]


def test_simd_override_caps_the_level():
    env = dict(os.environ, AUGURDB_SIMD="scalar")
    out = subprocess.run(
        [sys.executable, "-c", "import augurdb; print(augurdb.build_info()['simd'])"],
        env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "scalar"


def test_every_status_code_maps_to_an_error_class():
    from augurdb import _core, errors

    names = _core.status_code_names()
    classes = errors._classes_by_code()
    assert classes[0] is None  # OK
    for code in range(1, len(names)):
        assert classes[code] is not None, names[code]
