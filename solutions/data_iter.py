"""Reading the dataset in minibatches (d2l 3.2.2)."""
import random

import torch


def data_iter(batch_size, features, labels):
    """Yield shuffled minibatches (features[idx], labels[idx]) covering every example once (d2l 3.2.2)."""
    ### BEGIN SOLUTION
    ### TODO: shuffle the example indices, then yield aligned (features, labels) minibatches.
    ### Pitfall: keep the last, smaller batch; index features and labels with the same indices.
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]
    ### END SOLUTION
