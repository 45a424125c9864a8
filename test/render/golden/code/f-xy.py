import math

def df(x, y):  # x=0, y=1
    a = -x  # a = 0
    b = math.exp(a)  # b = 1
    c = y + b  # c = 2
    d = 1 / c  # d = 0.5

    dd = 1
    dc = -d/c * dd  # = -0.25
    dy, db = 1 * dc, 1 * dc  # = -0.25, -0.25
    da = b * db  # = -0.25
    dx = -1 * da  # = 0.25

    return d, (dx, dy)
