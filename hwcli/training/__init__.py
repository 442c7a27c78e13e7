"""Training: batches, the paper's RMSProp, the fit loop, distributed training."""
