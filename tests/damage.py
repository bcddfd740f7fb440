"""Damaging files the way disks, copies and crashes do, for the tests of what reads them."""


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def write(path, data):
    with open(path, "wb") as handle:
        handle.write(data)


def flip_middle(path):
    """One bit flipped in the file's middle byte."""
    data = bytearray(read(path))
    data[len(data) // 2] ^= 0x01
    write(path, bytes(data))


def truncate(path, keep=0.5):
    """The file cut to ``keep`` of its length."""
    data = read(path)
    write(path, data[:int(len(data) * keep)])
