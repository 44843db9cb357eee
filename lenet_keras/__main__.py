import sys

from lenet_keras.cli import main

sys.exit(main())
