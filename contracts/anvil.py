"""anvil (Foundry's node) as a third, out-of-process EVM for replaying a chain archive (``contracts.replay``).

gridledger installs nothing here: anvil comes from npm as a single binary (``@foundry-rs/anvil``, whose
``optionalDependencies`` carry one package per platform, ``@foundry-rs/anvil-<os>-<arch>``, with the binary in
``bin/``), installed into the project-local folder ``.anvil`` by ``INSTALL_COMMAND``. ``find_anvil`` looks there
(under the project root, then the working directory), then at ``$GRIDLEDGER_ANVIL``, then on ``PATH``.

``AnvilNode`` starts anvil listening on 127.0.0.1 only, on a free port, waits (bounded) until it answers, and
kills it on ``close()``, when it is garbage-collected, when Python exits, and (Linux) when this process dies
(``PR_SET_PDEATHSIG``). ``AnvilReplay`` re-executes an archive on it: genesis balances and nonces set with
``anvil_setBalance`` / ``anvil_setNonce``, every sender impersonated, each block's transactions sent unsigned
(``eth_sendTransaction`` as the archived sender, with its nonce, gas limit, value and calldata, gas price 0,
base fee 0) into the pool of a node that does not mine by itself, then mined first-in first-out at the archived
timestamp (``evm_mine`` with a timestamp), receipts read with ``eth_getBlockReceipts``.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path

from eth_utils import to_checksum_address

from contracts.chain import BaseChain, _error_string, _Reverted

ANVIL_PACKAGE = "@foundry-rs/anvil"
ANVIL_VERSION = "1.7.1"  # pinned; .ci/run installs the same (tests/contracts/test_anvil.py checks)
ANVIL_DIR = ".anvil"  # the project-local npm prefix
INSTALL_COMMAND = f"npm install --prefix {ANVIL_DIR} --ignore-scripts {ANVIL_PACKAGE}@{ANVIL_VERSION}"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_S = 30.0
RPC_TIMEOUT_S = 120.0
_CALLER = "0x" + "00" * 19 + "01"


class AnvilMissing(RuntimeError):
    """No anvil binary was found; the message says how to install it."""

    def __init__(self):
        super().__init__(f"anvil is not installed. Install it (needs node and npm) in the project folder with:\n"
                         f"    {INSTALL_COMMAND}\n"
                         f"or point GRIDLEDGER_ANVIL at an anvil binary.")


def _platform_binaries(prefix: Path) -> list[Path]:
    scope = prefix / "node_modules" / "@foundry-rs"
    return sorted(p for p in scope.glob("anvil-*/bin/anvil*") if p.is_file()) if scope.is_dir() else []


def find_anvil() -> Path | None:
    """The anvil binary to run, or None (see the module's docstring for where it is looked for)."""
    for root in (PROJECT_ROOT, Path.cwd()):
        found = _platform_binaries(root / ANVIL_DIR)
        if found:
            return found[0]
    env = os.environ.get("GRIDLEDGER_ANVIL")
    if env and Path(env).is_file():
        return Path(env)
    on_path = shutil.which("anvil")
    return Path(on_path) if on_path else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child before exec: anvil gets SIGKILL when this process dies
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except Exception:  # not Linux: the finalizer and atexit still stop it
        pass


def _stop(proc: subprocess.Popen, log) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    log.close()


class RpcError(RuntimeError):
    def __init__(self, error: dict):
        super().__init__(error.get("message", str(error)))
        self.error = error


class AnvilNode:
    """An anvil process on 127.0.0.1 and a keep-alive JSON-RPC connection to it."""

    def __init__(self, args: list[str], binary: Path | None = None, ready_timeout_s: float = READY_TIMEOUT_S):
        binary = binary or find_anvil()
        if binary is None:
            raise AnvilMissing()
        last = ""
        for _ in range(3):  # a port taken between _free_port and anvil's bind: try another
            self.port = _free_port()
            self._log = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(
                [str(binary), "--host", "127.0.0.1", "--port", str(self.port), *args], stdin=subprocess.DEVNULL,
                stdout=self._log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
            self._finalizer = weakref.finalize(self, _stop, self.proc, self._log)
            self._conn = None
            if self._wait_ready(ready_timeout_s):
                return
            exited = self.proc.poll() is not None
            last = self.output()
            self.close()
            if exited and "Address already in use" not in last:
                break
        raise RuntimeError(f"anvil ({binary}) did not start within {ready_timeout_s:.0f} s or exited:\n{last[-2000:]}")

    def _wait_ready(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                self.call("eth_chainId")
                return True
            except (OSError, http.client.HTTPException):
                self._conn = None
                time.sleep(0.05)
        return False

    def output(self) -> str:
        """What anvil printed so far."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._finalizer()

    def _post(self, payload):
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=RPC_TIMEOUT_S)
        body = json.dumps(payload).encode()
        try:
            self._conn.request("POST", "/", body, {"Content-Type": "application/json"})
            return json.loads(self._conn.getresponse().read())
        except (OSError, http.client.HTTPException):
            self._conn.close()
            self._conn = None
            raise

    def call(self, method: str, *params):
        """One JSON-RPC call; raises ``RpcError`` with anvil's error."""
        out = self._post({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        if "error" in out:
            raise RpcError(out["error"])
        return out["result"]

    def batch(self, calls: list[tuple[str, list]]) -> list[dict]:
        """Many calls in one request; each answer as ``{"result": …}`` or ``{"error": …}``, in order."""
        if not calls:
            return []
        out = self._post([{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)])
        return sorted(out, key=lambda r: r["id"])


def _hex(value: int) -> str:
    return hex(int(value))


class AnvilReplay(BaseChain):
    """The archive re-executed on anvil (see the module's docstring)."""

    backend_name = "anvil"

    def __init__(self, header: dict, senders: list[str], genesis_timestamp: int, binary: Path | None = None):
        super().__init__(genesis_timestamp)
        self.chain_id = int(header["chain_id"])
        hardfork = header.get("compiler", {}).get("evm_version", "prague")
        self.node = AnvilNode(["--chain-id", str(self.chain_id), "--hardfork", hardfork, "--timestamp",
                               str(int(genesis_timestamp)), "--base-fee", "0", "--gas-price", "0", "--no-mining",
                               "--order", "fifo", "--accounts", "0", "--disable-block-gas-limit",
                               "--silent"], binary)
        try:
            got = int(self.node.call("eth_chainId"), 16)
            if got != self.chain_id:
                raise ValueError(f"anvil's chain id {got} is not the archive's {self.chain_id}")
            self._nonces: dict[str, int] = {}
            self._head = int(self.node.call("eth_blockNumber"), 16)
            calls = []
            for account in header["alloc"]:
                calls += [("anvil_setBalance", [account["address"], _hex(int(account["balance"]))]),
                          ("anvil_setNonce", [account["address"], _hex(int(account["nonce"]))])]
                self._nonces[account["address"].lower()] = int(account["nonce"])
            calls += [("anvil_impersonateAccount", [s]) for s in senders]
            for answer in self.node.batch(calls):
                if "error" in answer:
                    raise RpcError(answer["error"])
        except BaseException:
            self.node.close()
            raise

    def close(self) -> None:
        """Stop anvil (the replayed chain can no longer be read)."""
        self.node.close()

    @property
    def chain(self) -> BaseChain:
        head = self.block_number
        if head != self._head:
            raise ValueError(f"anvil is at block {head}, the replay mined up to {self._head}")
        return self

    @property
    def block_number(self) -> int:
        return int(self.node.call("eth_blockNumber"), 16)

    @property
    def timestamp(self) -> int:
        return int(self.node.call("eth_getBlockByNumber", "latest", False)["timestamp"], 16)

    def run_block(self, number: int, timestamp: int, txs: list[tuple]) -> list[dict]:
        """Run ``(sender, to, nonce, value, gas, data)`` transactions in order in block ``number`` at
        ``timestamp``; one ``contracts.replay`` result each."""
        if number != self._head + 1:
            raise ValueError(f"anvil is at block {self._head}, the archive's next block is {number}")
        results: list[dict | None] = [None] * len(txs)
        calls, sent = [], []
        for i, (sender, to, nonce, value, gas, data) in enumerate(txs):
            expected = self._nonces.get(sender.lower(), 0)
            if nonce != expected:
                results[i] = {"ok": False, "gas_used": 0, "logs": [], "address": None,
                              "error": f"nonce {nonce}, but the sender's next nonce is {expected}"}
                continue
            self._nonces[sender.lower()] = nonce + 1
            tx = {"from": sender, "nonce": _hex(nonce), "gas": _hex(gas), "gasPrice": "0x0", "value": _hex(value),
                  "data": "0x" + bytes(data).hex()}
            if to is not None:
                tx["to"] = to
            calls.append(("eth_sendTransaction", [tx]))
            sent.append(i)
        hashes = {}
        for i, answer in zip(sent, self.node.batch(calls)):
            if "error" in answer:
                results[i] = {"ok": False, "gas_used": 0, "logs": [], "address": None,
                              "error": f"anvil refused it: {answer['error'].get('message')}"}
            else:
                hashes[answer["result"]] = i
        self.node.call("evm_mine", {"timestamp": int(timestamp), "blocks": 1})
        self._head = number
        receipts = (self.node.call("eth_getBlockReceipts", _hex(number)) or []) if calls else []
        for r in receipts:
            if int(r["blockNumber"], 16) != number:
                raise ValueError(f"anvil mined block {int(r['blockNumber'], 16)}, the archive's is {number}")
            i = hashes.pop(r["transactionHash"], None)
            if i is None:
                raise ValueError(f"anvil's block {number} holds a transaction the archive does not")
            ok = int(r["status"], 16) == 1
            logs = [(lg["address"].lower(), [bytes.fromhex(t[2:]) for t in lg["topics"]], bytes.fromhex(lg["data"][2:]))
                    for lg in r["logs"]]
            created = to_checksum_address(r["contractAddress"]) if ok and r.get("contractAddress") else None
            results[i] = {"ok": ok, "gas_used": int(r["gasUsed"], 16), "logs": logs if ok else [], "address": created}
        for i in hashes.values():
            results[i] = {"ok": False, "gas_used": 0, "logs": [], "address": None,
                          "error": f"anvil did not include it in block {number}"}
        return results

    def _static_call(self, to: str, data: bytes) -> bytes:
        try:
            out = self.node.call("eth_call", {"from": _CALLER, "to": to, "data": "0x" + data.hex()}, "latest")
        except RpcError as exc:
            revert = exc.error.get("data")
            if isinstance(revert, str) and revert.startswith("0x"):
                raise _Reverted(_error_string(bytes.fromhex(revert[2:]))) from None
            raise _Reverted(str(exc)) from None
        return bytes.fromhex(out[2:])
