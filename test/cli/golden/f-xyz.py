def df(x, y, z):  # x=1, y=0, z=-2
    a = 3 * x  # a = 3
    b = max(a, 0)  # b = 3
    c = b - y  # c = 3
    d = c**2  # d = 9
    g = d + z  # g = 7

    dg = 1
    dd, dz = 1 * dg, 1 * dg  # = 1, 1
    dc = 2*c * dd  # = 6
    db, dy = 1 * dc, -1 * dc  # = 6, -6
    da = ((a>0) + 0.5*(a==0)) * db  # = 6
    dx = 3 * da  # = 18

    return g, (dx, dy, dz)
