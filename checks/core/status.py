"""What a check can say: the status words, one function's verdict, and the exception a failed check raises."""

from dataclasses import dataclass, field

PASS, FAIL, NOT_IMPLEMENTED, NOT_ANSWERED = "PASS", "FAIL", "NOT IMPLEMENTED", "NOT ANSWERED"


class CheckFailure(AssertionError):
    """A check found a difference; the message tells the student what to fix."""


@dataclass
class Result:
    """One function's verdict. `notes`: advice on a passing function (what works beyond the classic
    contract, or does not), never a reason to fail."""
    name: str
    status: str
    message: str = ""
    seconds: float = 0.0
    notes: list = field(default_factory=list)

    @property
    def passed(self):
        return self.status == PASS
