from tracectl.cli.main import main

main()
