"""A password hash's 19 MiB buffer goes back to the system when the hash ends, however many threads hashed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

HASHING = textwrap.dedent(
    """
    import re
    from concurrent.futures import ThreadPoolExecutor

    from servicekit import passwords

    def rss_mib() -> int:
        return int(re.search(r"VmRSS:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) // 1024

    before = rss_mib()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(passwords._hash, [f"password-{n}" for n in range(16)]))
    print(rss_mib() - before)
    """
)


def test_hashing_in_four_threads_leaves_no_hash_buffer_resident() -> None:
    grown = subprocess.run([sys.executable, "-c", HASHING], capture_output=True, text=True, check=True).stdout
    # Without a fixed mmap threshold each hashing thread keeps its last 19 MiB buffer: about 57-76 MiB more.
    assert int(grown) < 19, grown
