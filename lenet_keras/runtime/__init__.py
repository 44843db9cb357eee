"""The part of lenet_keras that runs without TensorFlow: numpy, Pillow and ai_edge_litert only.

An image file becomes MNIST's 28x28 form (`images`, with `sides` deciding which side is paper, and `paper`
and `masks` finding the digit's ink),
and an exported .tflite model reads it (`tflite`; by default the int8 model shipped in this folder,
`lenet5_int8.tflite`). Nothing here imports the training side; tests/test_runtime_boundary.py checks it.
"""
