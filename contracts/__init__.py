"""gridledger package."""

import os

# eth-hash's keccak through pysha3 (safe-pysha3): ~1 us a hash against ~7 us through pycryptodome, which eth-hash
# would pick first; py-evm hashes every trie node and every SHA3 (~25 000 hashes per simulated VPP day).
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
