"""Everything that turns a trained model into ink (paper sections 4.1, 5.3-5.5).

    stepper.py     the networks one time step at a time, in numpy
    sampler.py     batched, seeded sampling: mixture draws, bias, the stopping rule -> Written
    priming.py     styles: built-in, ink files, dataset lines -> Prime
    page.py        text -> checked, wrapped lines -> one batch -> a placed Page
    inspection.py  the window's alignment and the next-point density, for `hw inspect`
"""
