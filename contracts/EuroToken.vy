# pragma version 0.4.3
# pragma evm-version prague
"""
@title EuroToken
@notice The community's money on chain: an ERC-20 with 6 decimals, one unit is one micro-euro (ueur).
@dev Minted only by the deployer (the scenario's bank) at set-up; every payment in gridledger is a
     transfer of this token, so balances Python reports are read from here. The supply stays below 2**128 ueur
     (~3.4e26 EUR), so no balance, sum of a batch or contract's running total built from it can overflow.
"""
from ethereum.ercs import IERC20

implements: IERC20

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

name: public(constant(String[16])) = "gridledger euro"
symbol: public(constant(String[8])) = "gEUR"
decimals: public(constant(uint8)) = 6

balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
totalSupply: public(uint256)
minter: public(address)

MAX_BATCH: constant(uint256) = 256  # receivers per transfer_many / transfer_packed / mint_many call
PAYMENT_AMOUNT_SHIFT: constant(uint256) = 160  # transfer_packed: amount << 160 | receiver
ADDRESS_MASK: constant(uint256) = 2**160 - 1
MAX_SUPPLY: constant(uint256) = 2**128 - 1  # ueur


@deploy
def __init__():
    self.minter = msg.sender


@external
def mint(receiver: address, amount: uint256):
    """
    @notice Create `amount` ueur for `receiver`.
    @param receiver Account credited.
    @param amount Micro-euros created; the supply stays below 2**128.
    """
    assert msg.sender == self.minter, "token: caller is not the minter"
    assert receiver != empty(address), "token: mint to the zero address"
    assert amount <= MAX_SUPPLY - self.totalSupply, "token: supply above 2**128 ueur"
    self.totalSupply += amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=empty(address), receiver=receiver, value=amount)


@external
def mint_many(receivers: DynArray[address, MAX_BATCH], amounts: DynArray[uint256, MAX_BATCH]):
    """
    @notice Create `amounts[i]` ueur for `receivers[i]`, one Transfer from the zero address each (as `mint`).
    @param receivers Accounts credited (no zero address).
    @param amounts Micro-euros created per receiver, same length as `receivers`; the supply stays below 2**128.
    """
    assert msg.sender == self.minter, "token: caller is not the minter"
    assert len(receivers) == len(amounts), "token: receivers and amounts differ in length"
    total: uint256 = 0
    for i: uint256 in range(len(receivers), bound=MAX_BATCH):
        receiver: address = receivers[i]
        assert receiver != empty(address), "token: mint to the zero address"
        amount: uint256 = amounts[i]
        assert amount <= MAX_SUPPLY, "token: supply above 2**128 ueur"
        total = unsafe_add(total, amount)  # < 256 x 2**128
        self.balanceOf[receiver] = unsafe_add(self.balanceOf[receiver], amount)  # <= totalSupply, checked below
        log Transfer(sender=empty(address), receiver=receiver, value=amount)
    assert total <= MAX_SUPPLY - self.totalSupply, "token: supply above 2**128 ueur"
    self.totalSupply += total


@external
def transfer_many(receivers: DynArray[address, MAX_BATCH], amounts: DynArray[uint256, MAX_BATCH]) -> bool:
    """
    @notice Move `amounts[i]` ueur from the caller to `receivers[i]`: the caller's balance is debited once by
            the sum, each receiver credited, one Transfer per receiver (as `transfer`, in the given order).
            Reverts if the caller's balance is below the sum.
    @param receivers Accounts credited (no zero address; an account may appear more than once).
    @param amounts Micro-euros per receiver, same length as `receivers`.
    """
    assert len(receivers) == len(amounts), "token: receivers and amounts differ in length"
    total: uint256 = 0
    for amount: uint256 in amounts:
        assert amount <= MAX_SUPPLY, "token: balance too low"  # above any balance; the sum cannot overflow
        total = unsafe_add(total, amount)  # < 256 x 2**128
    balance: uint256 = self.balanceOf[msg.sender]
    assert balance >= total, "token: balance too low"
    self.balanceOf[msg.sender] = unsafe_sub(balance, total)
    for i: uint256 in range(len(receivers), bound=MAX_BATCH):
        receiver: address = receivers[i]
        assert receiver != empty(address), "token: transfer to the zero address"
        amount: uint256 = amounts[i]
        self.balanceOf[receiver] = unsafe_add(self.balanceOf[receiver], amount)  # sum of balances = totalSupply
        log Transfer(sender=msg.sender, receiver=receiver, value=amount)
    return True


@external
def transfer_packed(payments: DynArray[uint256, MAX_BATCH]) -> bool:
    """
    @notice `transfer_many` with each payment in one word, amount << 160 | receiver (amount < 2**96 ueur, so
            that the word holds both; VppSettlement.settle_day pays this way): the caller's balance is debited
            once by the sum, each receiver credited, one Transfer per payment in the given order. Reverts if the
            caller's balance is below the sum.
    @param payments Per payment: micro-euros << 160 | receiver's address (no zero address; repeats allowed).
    """
    total: uint256 = 0
    for payment: uint256 in payments:
        total = unsafe_add(total, payment >> PAYMENT_AMOUNT_SHIFT)  # < 256 x 2**96: no overflow
    balance: uint256 = self.balanceOf[msg.sender]
    assert balance >= total, "token: balance too low"
    self.balanceOf[msg.sender] = unsafe_sub(balance, total)
    for payment: uint256 in payments:
        receiver: address = convert(payment & ADDRESS_MASK, address)
        assert receiver != empty(address), "token: transfer to the zero address"
        amount: uint256 = payment >> PAYMENT_AMOUNT_SHIFT
        self.balanceOf[receiver] = unsafe_add(self.balanceOf[receiver], amount)  # sum of balances = totalSupply
        log Transfer(sender=msg.sender, receiver=receiver, value=amount)
    return True


@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    assert receiver != empty(address), "token: transfer to the zero address"
    assert self.balanceOf[sender] >= amount, "token: balance too low"
    self.balanceOf[sender] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` ueur from the caller to `receiver`.
    @param receiver Account credited.
    @param amount Micro-euros moved.
    """
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` ueur from `sender` to `receiver` within the caller's allowance.
    @param sender Account debited.
    @param receiver Account credited.
    @param amount Micro-euros moved.
    """
    assert self.allowance[sender][msg.sender] >= amount, "token: allowance too low"
    self.allowance[sender][msg.sender] -= amount
    self._transfer(sender, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Let `spender` move up to `amount` ueur of the caller's.
    @param spender Account allowed.
    @param amount Micro-euros allowed.
    """
    assert spender != empty(address), "token: approve to the zero address"
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True
