import os

from overlay import randomness
from overlay.domain.donations import new_id


def test_ids_are_hex_of_the_length_asked_and_do_not_repeat() -> None:
    tokens = [randomness.token_hex(10) for _ in range(3 * randomness.BLOCK)]  # several blocks read
    assert all(len(t) == 20 and int(t, 16) >= 0 for t in tokens)
    assert len(set(tokens)) == len(tokens)
    assert new_id().startswith("d_") and len(new_id()) == 22


def test_a_forked_child_does_not_repeat_its_parents_next_ids() -> None:
    randomness.token_hex(10)  # the parent holds a block
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        os.close(read)
        os.write(write, "".join(randomness.token_hex(10) for _ in range(5)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read()
    os.waitpid(pid, 0)
    parent = "".join(randomness.token_hex(10) for _ in range(5))
    assert len(child) == len(parent) == 100 and child != parent
    assert not {child[i:i + 20] for i in range(0, 100, 20)} & {parent[i:i + 20] for i in range(0, 100, 20)}
