def mark_interrupted() -> int:
    return 0
