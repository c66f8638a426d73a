"""Training and evaluation of the trainable classifier plugins on FER2013."""
