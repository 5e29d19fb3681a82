"""Finalise pyrevm's journal into its database: what keeps the revm backend's memory flat.

pyrevm 0.3.7 runs every transaction in one revm ``JournaledState`` that it never finalises: every log ever
emitted, one journal entry list per call, and every account and slot ever loaded (warm, with its "original"
value from the first transaction that loaded it) stay in memory. ``EVM.commit()`` does not help (it only lowers
the journal depth, and underflows it at 0). What does: a checkpoint (``EVM.snapshot()``) taken when the journal
is empty; later, ``finalise`` reads what the journal changed since, reverts to the checkpoint (revm truncates
the logs and the journal and unloads every account and slot loaded since: its state map is empty again), writes
the changes into the EVM's database, and takes the next checkpoint. The database then holds the state, as it
would after a block on a node; the next transaction loads every account and slot cold, from there.

What is written: every account the journal holds (balance, nonce, code: pyrevm's ``journal_state``), and every
slot whose present value differs from the one it was loaded with. Storage is only readable from the Rust debug
text of the journal (``EVM.journal_str``)::

    JournaledState { state: {0x<addr>: Account { info: AccountInfo { balance: 0, nonce: 1, code_hash: 0x..,
    code: Some(Bytecode { bytecode: 0x.., state: Analysed { len: .., jump_map: JumpMap { map: ".." } } }) },
    storage: {3: StorageSlot { previous_or_original_value: 0, present_value: 10 }, ..}, status: ..}, ..},
    transient_storage: {..}, logs: [..], depth: 1, journal: [[..], ..], spec: .., warm_preloaded_addresses: {..} }

(revm 8 prints U256 keys and values in decimal; later revms' ``EvmStorageSlot { original_value, present_value,
is_cold }`` and hexadecimal are read too). The parse checks itself: a slot or an account it did not read raises
``RevmStateError``.

A slot goes into the database only if its account is not in the journal's state when it is written
(``insert_account_storage`` otherwise writes it through the journal, warm, with two journal entries): so each is
written inside a checkpoint of its own that is reverted at once (the database write is not journalled and stays).
Accounts that were already in the journal before the first checkpoint (those an EVM was given before this module
saw it) stay there; their slots are written through the journal, where they persist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from eth_utils import keccak
from pyrevm import EVM, AccountInfo

KECCAK_EMPTY = keccak(b"")
MAX_CODE_PADDING = 128  # revm's analysed bytecode appends 33 zero bytes (more after a trailing PUSH) [bytes]

_INFO, _STORAGE, _STATUS = ": Account { info: AccountInfo { ", "}, storage: {", "}, status: AccountStatus("
_SLOT = re.compile(r"(0x[0-9a-f]+|\d+): (?:Evm)?StorageSlot \{ (?:previous_or_)?original_value: (0x[0-9a-f]+|\d+), "
                   r"present_value: (0x[0-9a-f]+|\d+)[^{}]*\}")


class RevmStateError(RuntimeError):
    """pyrevm's journal is not what this module reads (another pyrevm or revm version?)."""


@dataclass(frozen=True, slots=True)
class Slot:
    """A storage slot in the journal: the value it was loaded with (``original``) and its value now."""

    original: int
    present: int


def _u256(text: str) -> int:
    return int(text, 16) if text.startswith("0x") else int(text)


def journal_slots(journal: str) -> dict[str, list[tuple[str, str, str]]]:
    """Every slot in the journal's state (``EVM.journal_str``) as printed: lower-case address -> [(slot, value
    loaded with, present value)], for every account of the state (an empty list for one without loaded slots).
    Raises RevmStateError when the text has a slot or an account this parser did not read."""
    end = journal.find(", transient_storage: ")
    if not journal.startswith("JournaledState { state: {") or end < 0:
        raise RevmStateError(f"pyrevm's journal text does not start as expected: {journal[:80]!r}")
    state = journal[:end]
    out: dict[str, list[tuple[str, str, str]]] = {}
    at = state.find(_INFO)
    while at >= 0:  # str.find, not a regular expression: the text holds every contract's code in hexadecimal
        address, opened = state[at - 42 : at], state.find(_STORAGE, at)
        closed = state.find(_STATUS, opened)
        if not address.startswith("0x") or opened < 0 or closed < 0:
            raise RevmStateError(f"pyrevm's journal: an account not as expected at {state[at - 42 : at + 60]!r}")
        body = state[opened + len(_STORAGE) : closed]
        found = _SLOT.findall(body)
        if len(found) != body.count("StorageSlot {"):
            raise RevmStateError(f"account {address}: read {len(found)} of {body.count('StorageSlot {')} "
                                 f"storage slots in pyrevm's journal")
        out[address] = found
        at = state.find(_INFO, closed)
    if len(out) != state.count(": Account { "):
        raise RevmStateError(f"read {len(out)} of {state.count(': Account { ')} accounts in pyrevm's journal")
    return out


def journal_storage(journal: str) -> dict[str, dict[int, Slot]]:
    """``journal_slots`` as numbers: lower-case address -> {slot: Slot}."""
    return {a: {_u256(k): Slot(_u256(o), _u256(p)) for k, o, p in found}
            for a, found in journal_slots(journal).items()}


def original_code(code: bytes, code_hash: bytes, cache: dict[bytes, bytes]) -> bytes:
    """The deployed bytes whose keccak is ``code_hash``: pyrevm hands back revm's analysed bytecode, which has
    zero bytes appended; those are cut (cached by hash). Raises RevmStateError if no cut matches."""
    found = cache.get(code_hash)
    if found is not None:
        return found
    for n in range(len(code), max(len(code) - MAX_CODE_PADDING, 0) - 1, -1):
        if n < len(code) and code[n] != 0:
            break  # only appended zeros may be cut
        if keccak(code[:n]) == code_hash:
            cache[code_hash] = code[:n]
            return code[:n]
    raise RevmStateError(f"no prefix of {len(code)} code bytes hashes to 0x{code_hash.hex()}")


def _account_info(info, code_cache: dict[bytes, bytes]) -> AccountInfo:
    """A copy of pyrevm's AccountInfo with the code as deployed (for ``insert_account_info``)."""
    code_hash = bytes(info.code_hash) if info.code_hash is not None else KECCAK_EMPTY
    code = None if code_hash == KECCAK_EMPTY else original_code(bytes(info.code or b""), code_hash, code_cache)
    return AccountInfo(balance=int(info.balance), nonce=int(info.nonce), code=code)


@dataclass(frozen=True, slots=True)
class Finalised:
    """What one ``finalise`` wrote into the database: accounts, and slots (changed ones only)."""

    accounts: int
    slots: int


def finalise(evm: EVM, checkpoint, code_cache: dict[bytes, bytes]) -> tuple[object, Finalised]:
    """Write what ``evm``'s journal changed since ``checkpoint`` (taken with an empty journal) into its database,
    drop the journal, its logs and its warm accounts and slots; returns the next checkpoint and what was written.
    ``code_cache`` (code hash -> deployed code) is filled as contracts are met."""
    slots = journal_slots(evm.journal_str)
    infos = {a.lower(): _account_info(info, code_cache) for a, info in evm.journal_state.items()}
    if infos.keys() != slots.keys():
        raise RevmStateError(f"pyrevm's journal lists {len(infos)} accounts, its text {len(slots)}")
    evm.revert(checkpoint)
    snapshot, insert, revert = evm.snapshot, evm.insert_account_storage, evm.revert
    kept = {a.lower() for a in evm.journal_state}  # loaded before the first checkpoint: they stay in the journal
    n_slots = 0
    for address in sorted(infos):  # sorted: the same order every run
        evm.insert_account_info(address, infos[address])
        if address in kept:  # every slot, through the journal (its revert may have undone some)
            for key, _, present in slots[address]:
                evm.insert_account_storage(address, _u256(key), _u256(present))
            n_slots += len(slots[address])
            continue
        # loaded from the database since the checkpoint: a slot still at the value it was loaded with is there
        changed = [(k, p) for k, o, p in slots[address] if o != p]  # a value prints one way only
        for key, present in changed:  # in any order: each slot is written once
            inner = snapshot()
            insert(address, _u256(key), _u256(present))
            revert(inner)
        n_slots += len(changed)
    return evm.snapshot(), Finalised(len(infos), n_slots)
