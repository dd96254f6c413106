"""mask_contacts on the phone formats customers type into comments (checked against hand-written answers)."""
import pytest

from cxlib.sources.personal import mask_contacts


@pytest.mark.parametrize("text, expected", [
    ("call (555) 123-4567 please", "call [phone] please"),
    ("(555) 123-4567", "[phone]"),
    ("ring +1 (555) 123-4567.", "ring [phone]."),
    ("tel. (+49) 30 1234 5678", "tel. [phone]"),
    ("my number is 030/12345678!", "my number is [phone]!"),
    ("order (12345) arrived", "order (12345) arrived"),  # too few digits: an order number stays
    ("since 2026-11-02 (twice)", "since 2026-11-02 (twice)"),  # a date stays
    ("write to ann@example.com (555) 123 4567", "write to [email] [phone]"),
])
def test_phone_numbers_in_text_are_masked_whole(text, expected):
    assert mask_contacts(text) == expected
