def df(x):  # x=3
    a = x * x  # a = 9

    da = 1
    dx = x * da  # = 3
    dx += x * da  # += 3 (dx = 6)

    return a, (dx,)
