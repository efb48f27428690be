"""The network and the loss: VGG19's features, the formulas, the terms, one level's objective, the device."""
