# pragma version 0.4.3
# pragma evm-version prague
"""
@title EuroToken
@notice The community's money on chain: an ERC-20 with 6 decimals, one unit is one micro-euro (ueur).
@dev Minted only by the deployer (the scenario's bank) at set-up; every payment in gridledger is a
     transfer of this token, so balances Python reports are read from here.
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


@deploy
def __init__():
    self.minter = msg.sender


@external
def mint(receiver: address, amount: uint256):
    """
    @notice Create `amount` ueur for `receiver`.
    @param receiver Account credited.
    @param amount Micro-euros created.
    """
    assert msg.sender == self.minter, "token: caller is not the minter"
    assert receiver != empty(address), "token: mint to the zero address"
    self.totalSupply += amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=empty(address), receiver=receiver, value=amount)


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
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True
