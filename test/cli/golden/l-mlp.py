def df(x, y, w1, b1, w2, b2):  # x=2, y=10, w1=-1, b1=4, w2=3, b2=1
    a = w1 * x  # a = -2
    b = a + b1  # b = 2
    c = max(b, 0)  # c = 2
    d = c * w2  # d = 6
    g = d + b2  # g = 7
    h = max(g, 0)  # h = 7
    i = h - y  # i = -3
    j = i**2  # j = 9

    dj = 1
    di = 2*i * dj  # = -6
    dh, dy = 1 * di, -1 * di  # = -6, 6
    dg = ((g>0) + 0.5*(g==0)) * dh  # = -6
    dd, db2 = 1 * dg, 1 * dg  # = -6, -6
    dc, dw2 = w2 * dd, c * dd  # = -18, -12
    db = ((b>0) + 0.5*(b==0)) * dc  # = -18
    da, db1 = 1 * db, 1 * db  # = -18, -18
    dw1, dx = x * da, w1 * da  # = -36, 18

    return j, (dx, dy, dw1, db1, dw2, db2)
