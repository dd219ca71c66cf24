print("lichtweg")
