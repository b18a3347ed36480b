"""Communities (小区) served by one Official Account: the directory, whose community a
resident is in, and the community a turn of the conversation is answered for.

Imported by bot/, handlers/, admin/ and wuye/; it imports only core/.
"""
