"""The reference EIP-712 digest, computed by eth-account from a type description, to check ours against."""

from __future__ import annotations

from eth_account.messages import encode_typed_data
from eth_utils import keccak

DOMAIN_FIELDS = [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                 {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}]


def eth_account_digest(primary: str, fields: str, message: dict, *, chain_id: int, contract: str) -> bytes:
    """Digest of ``message`` as struct ``primary`` with ``fields`` ("address meter,uint256 period,…") in
    gridledger's domain for ``contract`` on ``chain_id``."""
    types = [{"name": f.split()[1], "type": f.split()[0]} for f in fields.split(",")]
    msg = encode_typed_data(full_message={
        "types": {"EIP712Domain": DOMAIN_FIELDS, primary: types},
        "primaryType": primary,
        "domain": {"name": "gridledger", "version": "1", "chainId": chain_id, "verifyingContract": contract},
        "message": message,
    })
    return keccak(b"\x19" + msg.version + msg.header + msg.body)
