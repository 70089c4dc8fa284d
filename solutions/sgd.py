"""Minibatch stochastic gradient descent (d2l 3.2.6)."""
import torch


def sgd(params, lr, batch_size):
    """In-place minibatch SGD: each parameter steps by -lr * grad / batch_size, then its grad is zeroed (d2l 3.2.6)."""
    ### BEGIN SOLUTION
    ### TODO: update every parameter in place, then reset its gradient to zero.
    ### Pitfall: wrap the update in torch.no_grad(); divide by batch_size (the loss was summed);
    ###          forget to zero each gradient (in place) after its update and gradients accumulate across minibatches.
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()
    ### END SOLUTION
