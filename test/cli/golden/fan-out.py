def df(x):  # x=2
    a = x**2  # a = 4
    b = 3 * x  # b = 6
    c = a + b  # c = 10

    dc = 1
    da, db = 1 * dc, 1 * dc  # = 1, 1
    dx = 3 * db  # = 3
    dx += 2*x * da  # += 4 (dx = 7)

    return c, (dx,)
